import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { BulkCountScanner, BulkCountVerdict, BulkTextShape } from './bulk-count-scanner';

/** Text is handed to the scanner this many characters at a time, so that an early verdict encodes little. */
const PIECE = 65_536;

/** The fields of a form (or query string) that hold a bulk as JSON text, and what that text is. */
const BULK_FIELDS: ReadonlyArray<[string, BulkTextShape]> = [
  ['datajson', 'object'],
  ['smsdata', 'items'],
];

/** The refusal of a bulk over the cap, the same whichever way it arrived. */
export function bulkCapRefusal(verdict: Extract<BulkCountVerdict, { over: true }>, cap: number): ApiError {
  return ApiError.validation(
    verdict.reason === 'items'
      ? `smsdata has more than ${cap} items; at most ${cap} per request`
      : `smsdata makes more than ${cap} messages (item ${verdict.index} passes the cap); at most ${cap} per request`,
  );
}

/**
 * Counts the messages of a bulk held as JSON text in a field; stops encoding at the first piece that
 * passes the cap. A `datajson` is unwrapped once, so its text holds no further `datajson` to count.
 */
export function countBulkText(text: string, shape: BulkTextShape, cap: number): BulkCountVerdict {
  const scanner = new BulkCountScanner(cap, true, shape);
  for (let at = 0; at < text.length; at += PIECE) {
    if (scanner.write(Buffer.from(text.slice(at, at + PIECE))).over) break;
  }
  return scanner.verdict;
}

/**
 * Bulks sent as form fields (urlencoded, multipart) or in the query string are counted before the
 * handler parses them (JSON.parse of 16 MB of items, then an object per item, blocked the event loop for
 * every tenant for a request refused anyway). A JSON body was counted as it arrived (bulk-body-precount).
 */
export function precountBulkFields(
  fastify: FastifyInstance,
  options: { routes: ReadonlySet<string>; cap: number },
): void {
  fastify.addHook('preValidation', async (request: FastifyRequest) => {
    if (!options.routes.has(request.routeOptions.url ?? '')) return;
    refuseOverCap(request.query, options.cap);
    if (!isJson(request)) refuseOverCap(request.body, options.cap);
  });
}

function refuseOverCap(fields: unknown, cap: number): void {
  if (fields === null || typeof fields !== 'object' || Buffer.isBuffer(fields)) return;
  for (const [name, shape] of BULK_FIELDS) {
    const text = (fields as Record<string, unknown>)[name];
    if (typeof text !== 'string') continue;
    const verdict = countBulkText(text, shape, cap);
    if (verdict.over) throw bulkCapRefusal(verdict, cap);
  }
}

export function isJson(request: FastifyRequest): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(request.headers['content-type'] ?? '');
}
