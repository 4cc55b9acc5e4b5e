import 'reflect-metadata';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import {
  AccountExistsError,
  AccountService,
  AuthModule,
  PhoneRegistrationTokens,
  WebhookSecrets,
} from '@smsfleet/auth';
import { APP_CONFIG, AppConfig, ConfigError, ConfigModule, loadConfig } from '@smsfleet/config';
import { configuredDatabase, listDeadLetters, PersistenceModule, runMigrations } from '@smsfleet/persistence';
import { InvariantChecker, InvariantResult, InvariantsModule } from '@smsfleet/invariants';
import { DeviceRevocation, QueueingModule, QueueReconciler, TokenRevocationSignal } from '@smsfleet/queueing';
import { numberOption, parseArgs, requireOption, UsageError } from './cli-args';
import { readPassword } from './cli-password';
import { readClientLedger, readPhoneLedger } from './ledger-files';

@Module({ imports: [ConfigModule, PersistenceModule, AuthModule], providers: [TokenRevocationSignal] })
class CliModule {}

@Module({ imports: [ConfigModule, PersistenceModule, QueueingModule] })
class ReconcileModule {}

@Module({ imports: [ConfigModule, PersistenceModule] })
class DatabaseModule {}

@Module({ imports: [ConfigModule, PersistenceModule, InvariantsModule] })
class CheckModule {}

const DEVICE_COMMANDS = ['device:list', 'device:rotate-secret', 'device:remove'];

const USAGE = `usage: npm run cli -- <command> [options]
  user:create    --email E [--password P | --password-stdin]
                                          create an account (prints its API token); without either
                                          option the password is asked on the terminal
  user:password  --email E [--password P | --password-stdin]
                                          set a new password; the API token is rotated (prints it)
  token:show     --email E                print the account's current API token
  token:rotate   --email E                revoke the token and issue a new one
  phone:token    --email E [--rotate]     print the account's phone registration token (the SMSGate
                                          app's "Private Token"); --rotate replaces it first
  token:reseal                            seal every API and phone registration token with TOKEN_SECRET
                                          (from TOKEN_SECRET_PREVIOUS or the old database secret), replace
                                          those none opens, and delete the database secret
                                          (docs/operations.md, API tokens)
  webhooks:reseal                         seal every webhook secret still stored in clear (or with an
                                          earlier TOKEN_SECRET) with TOKEN_SECRET; lists the webhooks
                                          whose secret no configured key opens (docs/webhooks.md)
  migrate                                 apply pending database migrations
  device:list    --email E                the account's devices (removed ones too, marked)
  device:rotate-secret --id N             issue a new secret for device N (prints it; the phone is cut off);
                                          an SMSGate app phone's token is revoked and its next
                                          registration takes the device over (docs/phones.md)
  device:remove  --id N                   remove device N: cut off, its waiting messages end as 202
  reconcile                               rebuild every device queue from PostgreSQL (after Redis lost data)
  check [--settled] [--margin S] [--client-ledger F] [--phone-ledger F]
                                          compute the invariants (docs/reliability.md); exit 2 when one fails
  dead-letters [--account N] [--limit N]  what PostgreSQL refused of the phones' input, newest first, one
                                          JSON line each (ADR 1601; default limit 50)`;

async function main(): Promise<void> {
  const { command, options } = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  if (command === 'migrate') {
    const ran = await runMigrations(configuredDatabase(config));
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
  if (command === 'check') {
    process.exitCode = (await check(options)) ? 0 : 2;
    return;
  }
  if (command === 'dead-letters') {
    await deadLetters(options);
    return;
  }
  if (command !== undefined && DEVICE_COMMANDS.includes(command)) {
    await devices(command, options);
    return;
  }
  if (command === 'token:reseal') {
    const app = await NestFactory.createApplicationContext(CliModule, {
      logger: ['error'],
      abortOnError: false,
    });
    try {
      console.log(JSON.stringify(await app.get(AccountService).resealAll()));
    } finally {
      await app.close();
    }
    return;
  }
  if (command === 'webhooks:reseal') {
    const app = await NestFactory.createApplicationContext(CliModule, {
      logger: ['error'],
      abortOnError: false,
    });
    try {
      const report = await app.get(WebhookSecrets).resealAll();
      console.log(JSON.stringify(report));
      // Unopened secrets sign nothing: the operator restores the old TOKEN_SECRET or rotates them.
      if (report.unopened.length > 0) process.exitCode = 2;
    } finally {
      await app.close();
    }
    return;
  }
  if (
    !command ||
    !['user:create', 'user:password', 'token:show', 'token:rotate', 'phone:token'].includes(command)
  ) {
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
      const account = await accounts.createUser(email, await readPassword(options));
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
      const token = await accounts.setPassword(user.id, await readPassword(options));
      await announceRotation(app, user.id);
      console.log(`password of ${user.email} changed; its API token was rotated:`);
      console.log(token);
    } else if (command === 'phone:token') {
      const phoneTokens = app.get(PhoneRegistrationTokens);
      console.log(
        options.get('rotate') === 'true'
          ? await phoneTokens.rotate(user.id)
          : await phoneTokens.current(user.id),
      );
    } else if (command === 'token:show') {
      console.log(await accounts.currentToken(user.id));
    } else {
      const token = await accounts.rotateToken(user.id);
      await announceRotation(app, user.id);
      console.log(token);
    }
  } finally {
    await app.close();
  }
}

/** Tells the API replicas to drop the old token from their caches; says so when Redis could not be told. */
async function announceRotation(app: INestApplicationContext, userId: number): Promise<void> {
  if (await app.get(TokenRevocationSignal).publish({ userId })) return;
  const cacheMs = app.get<AppConfig>(APP_CONFIG).tokenCacheMs;
  console.error(`Redis not reached: API replicas may accept the old token for up to ${cacheMs} ms more`);
}

/** An operator's view of devices, and revoking one whatever its account (a stolen phone reported by mail). */
async function devices(command: string, options: Map<string, string>): Promise<void> {
  const app = await NestFactory.createApplicationContext(ReconcileModule, {
    logger: ['error'],
    abortOnError: false,
  });
  try {
    if (command === 'device:list') {
      const email = requireOption(options, 'email');
      const rows: unknown[] = await app.get(DataSource).query(
        `SELECT d.id, d.title, d.kind, d.created_at, d.last_seen_at, d.removed_at FROM devices d
             JOIN users u ON u.id = d.user_id WHERE u.email = lower($1) ORDER BY d.id`,
        [email.trim()],
      );
      for (const row of rows) console.log(JSON.stringify(row));
      return;
    }
    const id = requireOption(options, 'id');
    if (!/^\d{1,10}$/.test(id)) throw new UsageError('--id takes a device id');
    const revocation = app.get(DeviceRevocation);
    if (command === 'device:rotate-secret') {
      const rotated = await revocation.rotateSecret({ deviceId: Number(id) });
      if (rotated === undefined) throw new UsageError(`no device ${id} (or it was removed)`);
      console.log(
        JSON.stringify(
          rotated.kind === 'socket'
            ? { device_id: Number(id), device_secret: rotated.secret }
            : { device_id: Number(id), kind: 'smsgate', awaiting_registration: true },
        ),
      );
    } else {
      const finalised = await revocation.remove({ deviceId: Number(id) });
      if (finalised === undefined) throw new UsageError(`no device ${id} (or it was removed already)`);
      console.log(JSON.stringify({ device_id: Number(id), removed: true, messages_finalised: finalised }));
    }
  } finally {
    await app.close();
  }
}

/** Lists dead letters (ADR 1601), of one account or all. */
async function deadLetters(options: Map<string, string>): Promise<void> {
  const account = options.get('account');
  if (account !== undefined && !/^\d{1,10}$/.test(account))
    throw new UsageError('--account takes an account id');
  const limit = numberOption(options, 'limit', 50, 1, 100_000);
  if (!Number.isInteger(limit)) throw new UsageError('--limit takes a whole number');
  const app = await NestFactory.createApplicationContext(DatabaseModule, {
    logger: ['error'],
    abortOnError: false,
  });
  try {
    const rows = await listDeadLetters(app.get(DataSource), {
      accountId: account === undefined ? undefined : Number(account),
      limit,
    });
    for (const row of rows) console.log(JSON.stringify(row));
  } finally {
    await app.close();
  }
}

/** Prints each invariant with its counts, then the whole report as JSON; true when all hold. */
async function check(options: Map<string, string>): Promise<boolean> {
  const clientFile = options.get('client-ledger');
  const phoneFile = options.get('phone-ledger');
  const margin = options.get('margin');
  if (margin !== undefined && !/^\d+$/.test(margin)) throw new UsageError('--margin takes whole seconds');
  const app = await NestFactory.createApplicationContext(CheckModule, {
    logger: ['error'],
    abortOnError: false,
  });
  try {
    const results = await app.get(InvariantChecker).check({
      settled: options.get('settled') === 'true',
      marginSeconds: margin === undefined ? undefined : Number(margin),
      clientLedger: clientFile === undefined ? undefined : readClientLedger(clientFile),
      phoneLedger: phoneFile === undefined ? undefined : readPhoneLedger(phoneFile),
    });
    for (const result of results) console.log(describe(result));
    console.log(JSON.stringify(results));
    return results.every((result) => result.holds);
  } finally {
    await app.close();
  }
}

function describe(result: InvariantResult): string {
  const counts = Object.entries(result.counts)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  const examples = result.examples.length ? ` e.g. ${result.examples.join(',')}` : '';
  return `${result.id} ${result.holds ? 'ok  ' : 'FAIL'} ${result.title}: ${counts}${examples}`;
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`${error.message}\n${USAGE}`);
  else if (error instanceof ConfigError) console.error(`invalid configuration: ${error.message}`);
  else if (error instanceof AccountExistsError) console.error(error.message);
  else console.error(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof AccountExistsError ? 3 : 1);
});
