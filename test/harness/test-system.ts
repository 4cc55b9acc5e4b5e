import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { dropDatabase, runMigrations } from '@smsfleet/persistence';
import { removeAppLogs } from './app-logs';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export type AppName = 'api' | 'scheduler' | 'dispatcher' | 'status';

const ROOT = join(__dirname, '..', '..');
const ALIASES = join(ROOT, 'scripts', 'register-aliases.js');
const ENTRY: Record<AppName, string> = {
  api: 'dist/apps/api/src/main.js',
  scheduler: 'dist/apps/scheduler/src/main.js',
  dispatcher: 'dist/apps/dispatcher/src/main.js',
  status: 'dist/apps/status/src/main.js',
};

const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Extra environment of the apps; a function may derive it from the system (e.g. its database name). */
export type ExtraEnv = Record<string, string> | ((system: TestSystem) => Record<string, string>);

/**
 * Which PostgreSQL server and Redis a system runs on: the machine's shared ones by default, or private
 * instances (test/harness) for faults that restart or starve the server itself.
 */
export interface Infrastructure {
  /** A URL of the server's maintenance database; the system creates its own database beside it. */
  databaseServerUrl?: string;
  redisUrl?: string;
}

export interface Account {
  email: string;
  password: string;
  token: string;
}

/**
 * The real system for one test file: its own PostgreSQL database and Redis key prefix, the compiled apps as
 * separate processes (so tests can kill them), and helpers to talk to them. Never touches the demo's data.
 */
export class TestSystem {
  readonly id = randomBytes(4).toString('hex');
  readonly databaseUrl: string;
  readonly redisPrefix = `smsfleet-test-${this.id}`;
  /** Port of each app instance ("dispatcher", or a second one such as "dispatcher-b"). */
  readonly ports = {} as Record<string, number>;
  readonly processes = new Map<string, ChildProcess>();
  readonly logDir = join(tmpdir(), `smsfleet-test-${this.id}`);
  private pg?: Client;
  private redisClient?: IORedis;
  readonly redisUrl: string;

  constructor(
    private readonly extraEnv: ExtraEnv = {},
    infrastructure: Infrastructure = {},
  ) {
    this.redisUrl = infrastructure.redisUrl ?? REDIS_URL;
    const url = new URL(infrastructure.databaseServerUrl ?? BASE_DATABASE_URL);
    url.pathname = `/smsfleet_test_${this.id}`;
    this.databaseUrl = url.toString();
  }

  static async start(
    apps: AppName[] = ['api', 'scheduler', 'dispatcher', 'status'],
    env: ExtraEnv = {},
    infrastructure: Infrastructure = {},
  ): Promise<TestSystem> {
    const system = new TestSystem(env, infrastructure);
    await runMigrations(system.databaseUrl);
    for (const app of ['api', 'scheduler', 'dispatcher', 'status'] as AppName[])
      system.ports[app] = await freePort();
    mkdirSync(system.logDir, { recursive: true });
    const started = await Promise.allSettled(apps.map((app) => system.startApp(app)));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      // The suite gets no system to stop: the apps that did start would keep jest from exiting.
      await system.stop().catch(() => undefined);
      throw failed.reason;
    }
    return system;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.api}`;
  }

  get dispatcherUrl(): string {
    return `http://127.0.0.1:${this.ports.dispatcher}`;
  }

  /** Base URL of an app instance ("api", or a replica such as "dispatcher-b"). */
  url(instance: string): string {
    return `http://127.0.0.1:${this.ports[instance]}`;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      REDIS_PREFIX: this.redisPrefix,
      API_PORT: String(this.ports.api),
      DISPATCHER_PORT: String(this.ports.dispatcher),
      SCHEDULER_PORT: String(this.ports.scheduler),
      STATUS_PORT: String(this.ports.status),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      DISPATCH_IDLE_POLL_MS: '250',
      // Hundreds of simulated phones and clients share one IP here; test/rate-limits sets its own.
      RATE_LIMIT_CREDENTIALS_PER_IP: '10000000',
      RATE_LIMIT_REGISTRATIONS_PER_IP: '10000000',
      RATE_LIMIT_FAILED_LOGINS_PER_EMAIL: '10000000',
      // Likewise every phone here has one address: what one address may send is a phone fleet's, not a phone's.
      PHONE_LIMIT_HANDSHAKES_PER_ADDRESS: '10000000',
      PHONE_LIMIT_FAILED_HANDSHAKES_PER_ADDRESS: '10000000',
      PHONE_LIMIT_ADDRESS_EVENTS_PER_SECOND: '10000000',
      PHONE_LIMIT_ADDRESS_REPORTS_PER_SECOND: '10000000',
      PHONE_LIMIT_ADDRESS_REQUESTS_PER_SECOND: '10000000',
      PHONE_LIMIT_STREAMS_PER_ADDRESS: '10000000',
      ...(typeof this.extraEnv === 'function' ? this.extraEnv(this) : this.extraEnv),
    };
  }

  /**
   * Starts an app as a process. `instance` names a further replica (its own port, log and, for a
   * dispatcher, node id); by default the instance is the app itself.
   */
  async startApp(app: AppName, instance: string = app, env: Record<string, string> = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.ports[instance] ??= await freePort();
      const outcome = await this.startAppOnce(app, instance, env);
      if (outcome === 'started') return;
      // A free port can be taken by another process's outgoing connection before the app binds it.
      if (outcome !== 'port-taken' || attempt === 3) throw outcome;
      this.ports[instance] = await freePort();
    }
  }

  private async startAppOnce(
    app: AppName,
    instance: string,
    env: Record<string, string>,
  ): Promise<'started' | 'port-taken' | Error> {
    const log = createWriteStream(join(this.logDir, `${instance}.log`), { flags: 'a' });
    const portVariable = `${app.toUpperCase()}_PORT`;
    const child = spawn(process.execPath, ['-r', ALIASES, join(ROOT, ENTRY[app])], {
      cwd: ROOT,
      env: {
        ...this.env(),
        [portVariable]: String(this.ports[instance]),
        DISPATCHER_NODE_ID: `${instance}-${this.id}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    let startupOutput = '';
    const keep = (chunk: Buffer) => {
      if (startupOutput.length < 65_536) startupOutput += chunk.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.processes.set(instance, child);
    // 'close', not 'exit': by then the app's last words (EADDRINUSE) have been read.
    const exited = new Promise<'port-taken' | Error>((resolve) =>
      child.once('close', (code) =>
        resolve(
          startupOutput.includes('EADDRINUSE')
            ? 'port-taken'
            : new Error(
                `${instance} exited with ${code} during start-up; see ${this.logDir}/${instance}.log`,
              ),
        ),
      ),
    );
    const healthy = waitFor(
      `${instance} health`,
      async () => (await fetch(`http://127.0.0.1:${this.ports[instance]}/health/live`)).ok,
      30_000,
    ).then(() => 'started' as const);
    // Still polling when the process exited first: its late failure is no one's.
    healthy.catch(() => undefined);
    const outcome = await Promise.race([healthy, exited]);
    child.stdout?.off('data', keep);
    child.stderr?.off('data', keep);
    if (outcome !== 'started') this.processes.delete(instance);
    return outcome;
  }

  /** SIGKILL, no goodbye: what a crash looks like. Resolves once the process is gone. */
  async kill(instance: string): Promise<void> {
    const child = this.processes.get(instance);
    this.processes.delete(instance);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** The log lines (JSON) an instance wrote so far. */
  logLines(instance: string): Array<Record<string, unknown>> {
    const text = existsSync(join(this.logDir, `${instance}.log`))
      ? readFileSync(join(this.logDir, `${instance}.log`), 'utf8')
      : '';
    return text.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with how long the process took to exit. */
  async stopApp(app: string, timeoutMs = 10_000): Promise<number> {
    const child = this.processes.get(app);
    if (!child || child.exitCode !== null) return 0;
    this.processes.delete(app);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const started = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    return Date.now() - started;
  }

  /** Deletes this test's Redis keys (only its prefix: the Redis is shared) — Redis "lost its data". */
  async flushRedis(): Promise<number> {
    const redis = this.redis();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  }

  /** Runs the CLI with this system's environment; returns its stdout. */
  cli(...args: string[]): string {
    const result = this.cliResult(...args);
    if (result.status !== 0) throw new Error(`cli ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** Runs the CLI with this system's environment; returns its exit status and output, whatever they are. */
  cliResult(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const { status, stdout, stderr } = spawnSync(
      process.execPath,
      ['-r', ALIASES, join(ROOT, 'dist/tools/cli.js'), ...args],
      { cwd: ROOT, env: this.env(), encoding: 'utf8' },
    );
    return { status, stdout, stderr };
  }

  /** Runs the account CLI against this system's database and returns the new account with its token. */
  createAccount(
    email = `user-${randomBytes(3).toString('hex')}@example.com`,
    password = 'correct horse battery',
  ): Account {
    const result = spawnSync(
      process.execPath,
      [
        '-r',
        ALIASES,
        join(ROOT, 'dist/tools/cli.js'),
        'user:create',
        '--email',
        email,
        '--password',
        password,
      ],
      {
        cwd: ROOT,
        env: this.env(),
        encoding: 'utf8',
      },
    );
    if (result.status !== 0) throw new Error(`user:create failed: ${result.stderr}`);
    const { token } = JSON.parse(result.stdout.trim().split('\n').pop() as string) as { token: string };
    return { email, password, token };
  }

  async db(): Promise<Client> {
    if (!this.pg) {
      const client = new Client({ connectionString: this.databaseUrl });
      // A PostgreSQL restart (F7) ends the connection: the next query opens a new one.
      const forget = () => {
        if (this.pg === client) this.pg = undefined;
      };
      client.on('error', forget);
      client.on('end', forget);
      this.pg = client;
      await client.connect().catch((error: Error) => {
        forget();
        throw error;
      });
    }
    return this.pg;
  }

  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await (await this.db()).query(sql, params)).rows as T[];
  }

  redis(): IORedis {
    this.redisClient ??= new IORedis(this.redisUrl, { maxRetriesPerRequest: 3 });
    return this.redisClient;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((app) => this.stopApp(app)));
    await this.pg?.end().catch(() => undefined);
    await dropDatabase(this.databaseUrl).catch(() => undefined);
    const redis = this.redis();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
    removeAppLogs(this.logDir);
  }
}
