import 'reflect-metadata';
import multipart from '@fastify/multipart';
import { loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { ApiModule } from './api.module';
import { ApiExceptionFilter } from './common/api-exception.filter';

process.env.SMSFLEET_APP ??= 'api';

runMain('api', async () => {
  const config = loadConfig();
  await startHttpApp(ApiModule, {
    host: config.api.host,
    port: config.api.port,
    bodyLimit: 16 * 1_048_576,
    configure: async (app) => {
      app.useGlobalFilters(new ApiExceptionFilter());
      // Forms with files (multipart) become plain fields, like urlencoded and JSON bodies.
      await app.register(multipart, {
        attachFieldsToBody: 'keyValues',
        limits: { fileSize: 5 * 1_048_576, files: 1, fields: 200 },
      });
    },
  });
});
