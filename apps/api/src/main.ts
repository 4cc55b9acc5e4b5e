import 'reflect-metadata';
import multipart from '@fastify/multipart';
import { SwaggerModule } from '@nestjs/swagger';
import { loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { ApiModule } from './api.module';
import { ApiExceptionFilter } from './common/api-exception.filter';
import { openApiDocument } from './openapi/openapi-document';
import { BULK_BODY_LIMIT, DEFAULT_BODY_LIMIT, LARGE_BODY_ROUTES } from './common/route-limits';

process.env.SMSFLEET_APP ??= 'api';
const API_VERSION = '1.0.0';

runMain('api', async () => {
  const config = loadConfig();
  await startHttpApp(ApiModule, {
    host: config.api.host,
    port: config.api.port,
    bodyLimit: DEFAULT_BODY_LIMIT,
    trustProxy: config.api.trustProxy,
    configure: async (app) => {
      app.useGlobalFilters(new ApiExceptionFilter());
      // Large bodies on the bulk route only; registered before Nest adds its routes.
      app
        .getHttpAdapter()
        .getInstance()
        .addHook('onRoute', (route) => {
          if (LARGE_BODY_ROUTES.has(route.url)) route.bodyLimit = BULK_BODY_LIMIT;
        });
      // Forms with files (multipart) become plain fields, like urlencoded and JSON bodies.
      await app.register(multipart, {
        attachFieldsToBody: 'keyValues',
        limits: { fileSize: config.uploads.maxBytes, files: 1, fields: 200 },
      });
      // The UI at /docs, the description itself at /docs-json.
      SwaggerModule.setup('docs', app, openApiDocument(API_VERSION), {
        jsonDocumentUrl: 'docs-json',
      });
    },
  });
});
