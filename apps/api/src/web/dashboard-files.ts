import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The dashboard's client-side pages. Each answers the app's index.html; nothing else does, so the
 * dashboard never shadows a route of the API (an unknown path still answers the API's 404 JSON).
 */
export const DASHBOARD_PAGES = [
  '/',
  '/signin',
  '/devices',
  '/devices/add',
  '/messages',
  '/messages/:id',
  '/send',
  '/send/bulk',
  '/contacts',
  '/webhooks',
  '/webhooks/:id',
  '/account',
] as const;

/** Where `npm run build` puts the dashboard (apps/web, built by Vite), beside the compiled apps. */
export const DASHBOARD_ROOT = join(__dirname, '..', '..', '..', '..', 'web');

/** The built dashboard at `/` (its files under `/assets/`), or a clear 503 where it was not built. */
export async function serveDashboard(fastify: FastifyInstance, root = DASHBOARD_ROOT): Promise<void> {
  if (!existsSync(join(root, 'index.html'))) {
    for (const page of DASHBOARD_PAGES)
      fastify.get(page, async (_request, reply) =>
        reply.code(503).send({
          error: 1,
          message: 'the dashboard is not built here (npm run build builds it)',
          code: 'unavailable',
        }),
      );
    return;
  }
  // File names carry their content hash: cached for good. index.html is asked again every time.
  await fastify.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    maxAge: '365d',
    immutable: true,
  });
  for (const page of DASHBOARD_PAGES)
    fastify.get(page, async (_request, reply) =>
      reply.header('cache-control', 'no-cache').sendFile('index.html', root),
    );
}
