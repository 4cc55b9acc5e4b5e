import 'reflect-metadata';
import { loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { assertRedisAccepts } from '@smsfleet/queueing';
import { DispatcherModule } from './dispatcher.module';
import { MOBILE_PREFIX, MobileExceptionFilter } from './smsgate/mobile-errors';
import { INCOMING_WEBHOOK_PATH } from './smsgate/mobile-api';

process.env.SMSFLEET_APP ??= 'dispatcher';

/** The app's requests are small (one state report, its SIM cards); an incoming SMS may be 64 K characters. */
const MOBILE_BODY_LIMIT = 64 * 1024;
const INCOMING_SMS_BODY_LIMIT = 512 * 1024;

runMain('dispatcher', async () => {
  const config = loadConfig();
  // A wrong CA or password never heals by retrying: stop with one line naming Redis.
  await assertRedisAccepts(config.redis);
  // socket.io for phones (namespace /devices), the SMSGate app's API (/mobile/v1) and /health share this port.
  await startHttpApp(DispatcherModule, {
    host: config.dispatcher.host,
    port: config.dispatcher.port,
    // The phones' address for their limits (ADR 1602); socket.io phones are read by the same rules.
    trustProxy: config.dispatcher.trustProxy,
    bodyLimit: MOBILE_BODY_LIMIT,
    // The incoming-SMS webhook is signed over its bytes.
    rawBody: true,
    // No requestTimeoutMs: an event stream (GET /mobile/v1/events) is one request that lasts hours.
    // Helmet's headers are the API's (apps/api/src/main.ts), not for phones.
    configure: (app) => {
      // Errors under /mobile/v1 in the app's terms (body-parser refusals included); others as Nest answers them.
      app.useGlobalFilters(new MobileExceptionFilter(app.getHttpAdapter()));
      app
        .getHttpAdapter()
        .getInstance()
        .addHook('onRoute', (route) => {
          if (route.url === `${MOBILE_PREFIX}${INCOMING_WEBHOOK_PATH}`)
            route.bodyLimit = INCOMING_SMS_BODY_LIMIT;
        });
    },
  });
});
