import 'reflect-metadata';
import { loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { StatusModule } from './status.module';

process.env.SMSFLEET_APP ??= 'status';

runMain('status', async () => {
  const config = loadConfig();
  await startHttpApp(StatusModule, { host: config.status.host, port: config.status.port });
});
