import type { Multipart } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { MultipartLimits } from './route-limits';

/**
 * Multipart forms become plain fields (a file: a Buffer), like urlencoded and JSON bodies, within the
 * route's limits: the fields' count and each one's size (busboy), and the whole body's bytes counted as
 * they arrive. @fastify/multipart's own `attachFieldsToBody` cuts a long field short without saying so
 * and counts nothing in total, since its parser never reads the stream that Fastify's bodyLimit counts.
 */
export function readMultipartBodies(
  fastify: FastifyInstance,
  limitsOf: (route: string | undefined) => MultipartLimits,
): void {
  fastify.addHook('preValidation', async (request, reply) => {
    if (!request.isMultipart()) return;
    request.body = await readFields(request, reply, limitsOf(request.routeOptions.url));
  });
}

async function readFields(
  request: FastifyRequest,
  reply: FastifyReply,
  limits: MultipartLimits,
): Promise<Record<string, unknown>> {
  const parts = request
    .parts({
      limits: {
        fieldSize: limits.fieldSize,
        fields: limits.fields,
        files: limits.files,
        fileSize: limits.fileSize,
        parts: limits.fields + limits.files,
        fieldNameSize: 100,
        headerPairs: 20,
      },
    })
    [Symbol.asyncIterator]();
  // The first next() pipes the request into the parser; counting alongside it sees every byte.
  const first = parts.next();
  const overLimit = countBytes(request, reply, limits.total);
  const body: Record<string, unknown> = {};
  try {
    for (let next = first; ; next = parts.next()) {
      const { done, value: part } = await Promise.race([next, overLimit.exceeded]);
      if (done) return body;
      add(body, part.fieldname, await valueOf(part, limits));
    }
  } catch (error) {
    // Refused before the end of the body: read no more of it, and close the connection after the answer.
    stopReading(request, reply);
    throw error;
  } finally {
    overLimit.stop();
  }
}

function stopReading(request: FastifyRequest, reply: FastifyReply): void {
  request.raw.unpipe();
  request.raw.pause();
  void reply.header('connection', 'close');
}

async function valueOf(part: Multipart, limits: MultipartLimits): Promise<unknown> {
  if (part.type === 'file') return part.toBuffer();
  if (part.fieldnameTruncated) throw ApiError.validation('a multipart field name is longer than 100 bytes');
  if (part.valueTruncated)
    throw new ApiError(
      'payload_too_large',
      `field ${part.fieldname} is larger than ${limits.fieldSize} bytes`,
    );
  return part.value;
}

/** Several parts of one name become a list, as urlencoded forms give them. */
function add(body: Record<string, unknown>, name: string, value: unknown): void {
  const earlier = body[name];
  if (earlier === undefined) body[name] = value;
  else if (Array.isArray(earlier)) earlier.push(value);
  else body[name] = [earlier, value];
}

/**
 * Counts the body's bytes beside the parser; past `total` the request is refused at once (and the
 * connection closed after the answer, so the rest of the body is never read).
 */
function countBytes(request: FastifyRequest, reply: FastifyReply, total: number) {
  let received = 0;
  let refuse: (error: ApiError) => void = () => undefined;
  const exceeded = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  exceeded.catch(() => undefined);
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= total) return;
    request.raw.off('data', onData);
    stopReading(request, reply);
    refuse(new ApiError('payload_too_large', `request body larger than ${total} bytes`));
  };
  request.raw.on('data', onData);
  return { exceeded, stop: () => request.raw.off('data', onData) };
}
