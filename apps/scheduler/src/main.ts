import 'reflect-metadata';
import { loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { SchedulerModule } from './scheduler.module';

process.env.SMSFLEET_APP ??= 'scheduler';

runMain('scheduler', async () => {
  const config = loadConfig();
  // The HTTP port serves /health only.
  await startHttpApp(SchedulerModule, { host: config.scheduler.host, port: config.scheduler.port });
});
