import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '@smsfleet/auth';
import { ApiError } from './api-error';
import { DEFAULT_BODY_LIMIT } from './route-limits';

/**
 * The account of a request's token outside its body (query string or `Authorization: Bearer`), looked up
 * once per request: the onRequest hooks that need it before the body is read (the token check below, the
 * bulk gate) share one lookup. `undefined`: no such token; `null`: a token of no account.
 */
export class CallerBeforeBody {
  private readonly found = new WeakMap<FastifyRequest, Promise<Account | null | undefined>>();

  constructor(private readonly accountForToken: (token: string) => Promise<Account | null>) {}

  of(request: FastifyRequest): Promise<Account | null | undefined> {
    let account = this.found.get(request);
    if (account === undefined) {
      const token = tokenOutsideBody(request);
      account = token === undefined ? Promise.resolve(undefined) : this.accountForToken(token);
      this.found.set(request, account);
    }
    return account;
  }
}

/**
 * A request whose body may be large (bulk, image) and whose token is outside the body (the query string
 * or `Authorization: Bearer`) has that token checked before the body is read: a wrong one costs no
 * upload and no parsing. A token inside the body (datajson) can only be checked after reading it.
 */
export function checkTokenBeforeLargeBodies(
  fastify: FastifyInstance,
  options: {
    bodyLimitOf: (route: string | undefined) => number;
    callers: CallerBeforeBody;
  },
): void {
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (options.bodyLimitOf(request.routeOptions.url) <= DEFAULT_BODY_LIMIT) return;
    if ((await options.callers.of(request)) !== null) return;
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
