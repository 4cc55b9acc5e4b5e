import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AccountExistsError, AccountService, AuthModule } from '@smsfleet/auth';
import { ConfigError, ConfigModule, loadConfig } from '@smsfleet/config';
import { PersistenceModule, runMigrations } from '@smsfleet/persistence';
import { QueueingModule, QueueReconciler } from '@smsfleet/queueing';
import { parseArgs, requireOption, UsageError } from './cli-args';

@Module({ imports: [ConfigModule, PersistenceModule, AuthModule] })
class CliModule {}

@Module({ imports: [ConfigModule, PersistenceModule, QueueingModule] })
class ReconcileModule {}

const USAGE = `usage: npm run cli -- <command> [options]
  user:create    --email E --password P   create an account (prints its API token)
  user:password  --email E --password P   set a new password
  token:show     --email E                print the account's current API token
  token:rotate   --email E                revoke the token and issue a new one
  migrate                                 apply pending database migrations
  reconcile                               rebuild every device queue from PostgreSQL (after Redis lost data)`;

async function main(): Promise<void> {
  const { command, options } = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  if (command === 'migrate') {
    const ran = await runMigrations(config.databaseUrl);
    console.log(ran.length ? `applied: ${ran.join(', ')}` : 'database is up to date');
    return;
  }
  if (command === 'reconcile') {
    const app = await NestFactory.createApplicationContext(ReconcileModule, {
      logger: ['error'],
      abortOnError: false,
    });
    try {
      console.log(JSON.stringify(await app.get(QueueReconciler).reconcile()));
    } finally {
      await app.close();
    }
    return;
  }
  if (!command || !['user:create', 'user:password', 'token:show', 'token:rotate'].includes(command)) {
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
  const app = await NestFactory.createApplicationContext(CliModule, {
    logger: ['error'],
    abortOnError: false,
  });
  try {
    const accounts = app.get(AccountService);
    const email = requireOption(options, 'email');
    if (command === 'user:create') {
      const account = await accounts.createUser(email, requireOption(options, 'password'));
      console.log(
        JSON.stringify({
          id: account.id,
          email: account.email,
          token: await accounts.currentToken(account.id),
        }),
      );
      return;
    }
    const user = await accounts.findByEmail(email);
    if (!user) throw new UsageError(`no account with email ${email}`);
    if (command === 'user:password') {
      await accounts.setPassword(user.id, requireOption(options, 'password'));
      console.log(`password of ${user.email} changed`);
    } else if (command === 'token:show') {
      console.log(await accounts.currentToken(user.id));
    } else {
      console.log(await accounts.rotateToken(user.id));
    }
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`${error.message}\n${USAGE}`);
  else if (error instanceof ConfigError) console.error(`invalid configuration: ${error.message}`);
  else if (error instanceof AccountExistsError) console.error(error.message);
  else console.error(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof AccountExistsError ? 3 : 1);
});
