import 'reflect-metadata';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import { SwaggerModule } from '@nestjs/swagger';
import { AccountService } from '@smsfleet/auth';
import { assertTokenSecretConfigured, loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { assertRedisAccepts } from '@smsfleet/queueing';
import { ApiModule } from './api.module';
import { ApiExceptionFilter } from './common/api-exception.filter';
import { CallerBeforeBody, checkTokenBeforeLargeBodies } from './common/early-token-check';
import { lingerBeforeClosing } from './common/lingering-close';
import { readMultipartBodies } from './common/multipart-body';
import { precountBulkBodies } from './messages/bulk-body-precount';
import { precountBulkFields } from './messages/bulk-field-count';
import { BulkGate, gateBulksBeforeTheirBodies } from './messages/bulk-gate';
import { MAX_BULK_ITEMS } from './messages/bulk-request';
import { guardRequestSizes } from './common/request-size-guard';
import { SECURITY_HEADERS } from './common/security-headers';
import { openApiDocument } from './openapi/openapi-document';
import { serveDashboard } from './web/dashboard-files';
import { bodyLimitsOf, DEFAULT_BODY_LIMIT, LARGE_BODY_ROUTES } from './common/route-limits';

process.env.SMSFLEET_APP ??= 'api';
const API_VERSION = '1.0.0';

runMain('api', async () => {
  const config = loadConfig();
  assertTokenSecretConfigured(config);
  // A wrong CA or password never heals by retrying: stop with one line naming Redis.
  await assertRedisAccepts(config.redis);
  const limitsOf = (route: string | undefined) =>
    bodyLimitsOf(
      route,
      config.messages.maxBodyLength,
      config.uploads.maxBytes,
      config.api.bulkBodyLimitBytes,
    );
  await startHttpApp(ApiModule, {
    host: config.api.host,
    port: config.api.port,
    bodyLimit: DEFAULT_BODY_LIMIT,
    trustProxy: config.api.trustProxy,
    requestTimeoutMs: config.api.requestTimeoutMs,
    configure: async (app) => {
      app.useGlobalFilters(new ApiExceptionFilter());
      const fastify = app.getHttpAdapter().getInstance();
      // Large bodies on the bulk route only; registered before Nest adds its routes.
      fastify.addHook('onRoute', (route) => {
        if (LARGE_BODY_ROUTES.has(route.url)) route.bodyLimit = config.api.bulkBodyLimitBytes;
      });
      // A refused body's answer must reach a client still writing it.
      lingerBeforeClosing(fastify);
      // Sizes first, then a token outside the body: both before any byte of the body is read.
      guardRequestSizes(fastify, { limitsOf, largeBodiesInFlight: config.api.largeBodiesInFlightBytes });
      const accounts = app.get(AccountService);
      // The token outside the body is looked up once; both hooks below read the account it found.
      const callers = new CallerBeforeBody((token) => accounts.accountForToken(token));
      checkTokenBeforeLargeBodies(fastify, {
        bodyLimitOf: (route) => Math.max(limitsOf(route).body, limitsOf(route).multipart.total),
        callers,
      });
      // One bulk of an account at a time: a second one with its token outside the body is refused unread.
      gateBulksBeforeTheirBodies(fastify, { routes: LARGE_BODY_ROUTES, gate: app.get(BulkGate), callers });
      // A bulk body over the message cap is refused without being decoded or parsed.
      precountBulkBodies(fastify, { routes: LARGE_BODY_ROUTES, cap: MAX_BULK_ITEMS });
      await app.register(helmet, SECURITY_HEADERS);
      // Forms with files (multipart) become plain fields, like urlencoded and JSON bodies.
      await app.register(multipart);
      readMultipartBodies(fastify, (route) => limitsOf(route).multipart);
      // Form and query fields holding a bulk: counted once read, before the handler parses them.
      precountBulkFields(fastify, { routes: LARGE_BODY_ROUTES, cap: MAX_BULK_ITEMS });
      // The web dashboard (apps/web) at `/`: its pages and files only, beside the API's routes.
      await serveDashboard(fastify);
      // The UI at /docs, the description itself at /docs-json.
      SwaggerModule.setup('docs', app, openApiDocument(API_VERSION), {
        jsonDocumentUrl: 'docs-json',
      });
    },
  });
});
