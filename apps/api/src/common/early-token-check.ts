import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { DEFAULT_BODY_LIMIT } from './route-limits';

/**
 * A request whose body may be large (bulk, image) and whose token is outside the body (the query string
 * or `Authorization: Bearer`) has that token checked before the body is read: a wrong one costs no
 * upload and no parsing. A token inside the body (datajson) can only be checked after reading it.
 */
export function checkTokenBeforeLargeBodies(
  fastify: FastifyInstance,
  options: {
    bodyLimitOf: (route: string | undefined) => number;
    tokenIsValid: (token: string) => Promise<boolean>;
  },
): void {
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (options.bodyLimitOf(request.routeOptions.url) <= DEFAULT_BODY_LIMIT) return;
    const token = tokenOutsideBody(request);
    if (token === undefined || (await options.tokenIsValid(token))) return;
    void reply.header('connection', 'close');
    throw new ApiError(
      'invalid_token',
      'Token is invalid or has been rotated; get the current one with gettoken',
    );
  });
}

/** The token of a query string or a Bearer header, read before the body is. */
export function tokenOutsideBody(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  if (typeof query?.token === 'string' && query.token.trim() !== '') return query.token.trim();
  const header = request.headers.authorization;
  return typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}
