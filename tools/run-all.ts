import { loadConfig, runMain } from '@smsfleet/config';
import { configuredDatabase, runMigrations } from '@smsfleet/persistence';
import { APP_NAMES, AppSupervisor } from './supervisor/app-supervisor';

/** `npm start`: the whole system on one machine — migrations, then the four apps as separate processes. */
runMain('start', async () => {
  const config = loadConfig();
  await runMigrations(configuredDatabase(config));
  const supervisor = new AppSupervisor(process.env);
  const ports = {
    api: config.api.port,
    scheduler: config.scheduler.port,
    dispatcher: config.dispatcher.port,
    status: config.status.port,
  };
  for (const name of APP_NAMES) supervisor.start(name, ports[name]);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await supervisor.stopAll();
    process.exit(code);
  };
  supervisor.onUnexpectedExit((app, code) => {
    if (stopping) return;
    console.error(`smsfleet: ${app.name} exited (code ${code}); stopping the others`);
    void stop(1);
  });
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  await supervisor.waitUntilLive();
});
