import type { Multipart, MultipartFile } from '@fastify/multipart';
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
      // busboy streams a part it takes for a file; @fastify/multipart JSON-parses a field typed JSON.
      ...(limits.jsonPartsAsText ? { isPartAFile: isFileOrJsonPart } : {}),
      limits: {
        fieldSize: limits.fieldSize,
        fields: limits.fields,
        // Parts read as text come as files: busboy counts them as such (parts still bounds them all).
        files: limits.jsonPartsAsText ? limits.files + limits.fields : limits.files,
        fileSize: limits.jsonPartsAsText ? Math.max(limits.fileSize, limits.fieldSize) : limits.fileSize,
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
  let files = 0;
  try {
    for (let next = first; ; next = parts.next()) {
      const { done, value: part } = await Promise.race([next, overLimit.exceeded]);
      if (done) return body;
      if (part.type === 'file' && !isJsonText(part, limits) && ++files > limits.files)
        throw new ApiError(
          'payload_too_large',
          limits.files === 0 ? 'this method takes no file' : `at most ${limits.files} files in one request`,
        );
      // A file (or a part read as text) arrives while its value is read: the count may refuse it meanwhile.
      const value = valueOf(part, limits);
      value.catch(() => undefined);
      add(body, part.fieldname, await Promise.race([value, overLimit.exceeded]));
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

/**
 * busboy's own rule (a file name, or octet-stream), plus a part typed JSON without a file name: read as
 * text by us, like any form field, instead of being parsed by @fastify/multipart as it arrives. Typed
 * JSON, a 16 MB `datajson` was parsed whole (and the count of its messages came only after), where the
 * same text as a plain field is counted first and refused at the cap, never parsed (bulk-field-count).
 */
function isFileOrJsonPart(_field: string | undefined, type: string | undefined, file: string | undefined) {
  return file !== undefined || type === 'application/octet-stream' || isJsonType(type);
}

/** The test @fastify/multipart applies before it parses a field (busboy lowercases the type). */
function isJsonType(type: string | undefined): boolean {
  return type?.startsWith('application/json') === true;
}

function isJsonText(part: Multipart, limits: MultipartLimits): boolean {
  return (
    limits.jsonPartsAsText && part.type === 'file' && part.filename === undefined && isJsonType(part.mimetype)
  );
}

async function valueOf(part: Multipart, limits: MultipartLimits): Promise<unknown> {
  if (isJsonText(part, limits)) return textOf(part as MultipartFile, limits);
  if (part.type === 'file') return part.toBuffer();
  if (part.fieldnameTruncated) throw ApiError.validation('a multipart field name is longer than 100 bytes');
  if (part.valueTruncated)
    throw new ApiError(
      'payload_too_large',
      `field ${part.fieldname} is larger than ${limits.fieldSize} bytes`,
    );
  return part.value;
}

/** A part read as text, within the size of a field (UTF-8: JSON text has no other encoding, RFC 8259). */
async function textOf(part: MultipartFile, limits: MultipartLimits): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of part.file) chunks.push(chunk as Buffer);
  if (part.file.truncated)
    throw new ApiError(
      'payload_too_large',
      `field ${part.fieldname} is larger than ${limits.fieldSize} bytes`,
    );
  return Buffer.concat(chunks).toString('utf8');
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
