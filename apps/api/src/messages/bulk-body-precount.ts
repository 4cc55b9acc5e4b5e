import { Transform, TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BulkCountScanner } from './bulk-count-scanner';
import { bulkCapRefusal, isJson } from './bulk-field-count';

/**
 * JSON bodies of the bulk routes are counted (BulkCountScanner) as they arrive. Once over the cap, the
 * rest is read and dropped, neither kept nor scanned, and the request is refused when the body ends:
 * decoding and parsing a 16 MB body that is refused anyway blocked the event loop for a few hundred ms,
 * every other tenant's requests waiting meanwhile. The refusal waits for the end of the body, because a
 * client still writing when the server closes gets a reset instead of the answer.
 */
export function precountBulkBodies(
  fastify: FastifyInstance,
  options: { routes: ReadonlySet<string>; cap: number },
): void {
  fastify.addHook('preParsing', async (request: FastifyRequest, _reply, payload) => {
    if (!options.routes.has(request.routeOptions.url ?? '') || !isJson(request)) return payload;
    const counted = countingStream(options.cap);
    // pipe() forwards no errors: a client gone mid-body must end the parser's wait too.
    payload.once('error', (error) => counted.destroy(error));
    payload.once('close', () => {
      if (!payload.readableEnded) counted.destroy(new Error('request aborted'));
    });
    return payload.pipe(counted);
  });
}

function countingStream(cap: number): Transform {
  const scanner = new BulkCountScanner(cap);
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      if (scanner.verdict.over) return done();
      done(null, scanner.write(chunk).over ? undefined : chunk);
    },
    flush(done: TransformCallback) {
      const verdict = scanner.verdict;
      done(verdict.over ? bulkCapRefusal(verdict, cap) : null);
    },
  });
}
