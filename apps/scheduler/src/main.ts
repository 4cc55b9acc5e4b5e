import 'reflect-metadata';
import { loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { assertRedisAccepts } from '@smsfleet/queueing';
import { SchedulerModule } from './scheduler.module';

process.env.SMSFLEET_APP ??= 'scheduler';

runMain('scheduler', async () => {
  const config = loadConfig();
  // A wrong CA or password never heals by retrying: stop with one line naming Redis.
  await assertRedisAccepts(config.redis);
  // The HTTP port serves /health only.
  await startHttpApp(SchedulerModule, { host: config.scheduler.host, port: config.scheduler.port });
});
