import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { BodyLimits, DEFAULT_BODY_LIMIT } from './route-limits';

export interface RequestSizeGuardOptions {
  limitsOf: (route: string | undefined) => BodyLimits;
  /** Bytes of bodies larger than the ordinary limit that may be on their way in at once (this process). */
  largeBodiesInFlight: number;
}

/**
 * Before a body is read: a declared length over the route's limit is refused at once, and bodies larger
 * than ordinary ones (bulk requests, images) share a budget of bytes in flight, so that many of them at
 * once are answered "retry" instead of filling the heap. A chunked body is counted as it arrives (by
 * Fastify, or by readMultipartBodies) and reserves its route's whole limit meanwhile.
 */
export function guardRequestSizes(fastify: FastifyInstance, options: RequestSizeGuardOptions): void {
  let inFlight = 0;
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const limits = options.limitsOf(request.routeOptions.url);
    const limit = isMultipart(request) ? limits.multipart.total : limits.body;
    const declared = declaredLength(request);
    if (declared !== undefined && declared > limit) {
      void reply.header('connection', 'close');
      throw new ApiError('payload_too_large', `request body larger than ${limit} bytes`);
    }
    if (limit <= DEFAULT_BODY_LIMIT || !hasBody(request)) return;
    const reserved = Math.min(declared ?? limit, limit);
    if (reserved <= DEFAULT_BODY_LIMIT) return;
    if (inFlight + reserved > options.largeBodiesInFlight) {
      void reply.header('connection', 'close');
      throw new ApiError('unavailable', 'too many large requests in progress; retry in a few seconds');
    }
    inFlight += reserved;
    // 'close' comes once whatever happens: answered, refused or cut off by the client.
    reply.raw.once('close', () => {
      inFlight -= reserved;
    });
  });
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return length !== undefined ? length !== '0' : request.headers['transfer-encoding'] !== undefined;
}

function isMultipart(request: FastifyRequest): boolean {
  return /^multipart\//i.test(request.headers['content-type'] ?? '');
}
