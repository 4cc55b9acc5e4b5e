import 'reflect-metadata';
import { loadConfig, runMain } from '@smsfleet/config';
import { startHttpApp } from '@smsfleet/observability';
import { DispatcherModule } from './dispatcher.module';

process.env.SMSFLEET_APP ??= 'dispatcher';

runMain('dispatcher', async () => {
  const config = loadConfig();
  // socket.io for phones (namespace /devices) and /health share this port.
  await startHttpApp(DispatcherModule, { host: config.dispatcher.host, port: config.dispatcher.port });
});
