import { loadConfig, runMain } from '@smsfleet/config';
import { runMigrations } from '@smsfleet/persistence';

runMain('migrate', async () => {
  const ran = await runMigrations(loadConfig().databaseUrl);
  console.log(ran.length ? `applied migrations: ${ran.join(', ')}` : 'database is up to date');
});
