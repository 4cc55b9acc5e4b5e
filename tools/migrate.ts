import { loadConfig, runMain } from '@smsfleet/config';
import { configuredDatabase, runMigrations } from '@smsfleet/persistence';

runMain('migrate', async () => {
  const ran = await runMigrations(configuredDatabase(loadConfig()));
  console.log(ran.length ? `applied migrations: ${ran.join(', ')}` : 'database is up to date');
});
