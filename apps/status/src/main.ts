import 'reflect-metadata';
import { assertTokenSecretConfigured, loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { assertRedisAccepts } from '@smsfleet/queueing';
import { StatusModule } from './status.module';

process.env.SMSFLEET_APP ??= 'status';

runMain('status', async () => {
  const config = loadConfig();
  // Delivering webhooks opens their sealed secrets: production needs the API's TOKEN_SECRET here too.
  assertTokenSecretConfigured(config);
  // A wrong CA or password never heals by retrying: stop with one line naming Redis.
  await assertRedisAccepts(config.redis);
  await startHttpApp(StatusModule, { host: config.status.host, port: config.status.port });
});
