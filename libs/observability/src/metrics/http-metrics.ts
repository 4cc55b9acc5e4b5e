import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from './metrics';

/** Compatible clients get errors as HTTP 200: the body says `{"error":1,…,"code":"…"}`. */
const API_ERROR = /^\{"error":1,.*"code":"([a-z_]{1,40})"/;

/**
 * Counts every HTTP request by method, route template (never the raw URL: bounded labels) and status, and
 * every `{"error":1}` answer by its code.
 */
export function instrumentHttp(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.addHook('onSend', async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
    if (typeof payload === 'string' && payload.startsWith('{"error":1')) {
      const code = API_ERROR.exec(payload)?.[1] ?? 'unknown';
      metrics.apiErrors.inc({ route: routeOf(request), code });
    }
    return payload;
  });
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: routeOf(request), status: String(reply.statusCode) },
      reply.elapsedTime / 1_000,
    );
  });
}

function routeOf(request: FastifyRequest): string {
  return request.routeOptions?.url ?? 'unmatched';
}
