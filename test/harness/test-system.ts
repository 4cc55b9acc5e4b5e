import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AppName, APP_NAMES } from './app-processes';
import { Infrastructure, ONE_ADDRESS_LIMITS, RealSystem } from './real-system';
import { ALIASES, CLI, REPO_ROOT } from './repo-root';

export type { AppName } from './app-processes';
export type { Infrastructure } from './real-system';

const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Extra environment of the apps; a function may derive it from the system (e.g. its database name). */
export type ExtraEnv = Record<string, string> | ((system: TestSystem) => Record<string, string>);

export interface Account {
  email: string;
  password: string;
  token: string;
}

/**
 * The real system for one test file: its own PostgreSQL database and Redis key prefix, the compiled apps as
 * separate processes (so tests can kill them), and helpers to talk to them. Never touches the demo's data.
 */
export class TestSystem extends RealSystem {
  private pg?: Client;

  constructor(
    private readonly extraEnv: ExtraEnv = {},
    infrastructure: Infrastructure = {},
  ) {
    super(
      'test',
      {
        databaseServerUrl: infrastructure.databaseServerUrl ?? BASE_DATABASE_URL,
        redisUrl: infrastructure.redisUrl ?? REDIS_URL,
        redisEnv: infrastructure.redisEnv,
      },
      // Start-up is CPU-bound (loading the modules): with two suites at once (`npm test`) on a loaded 2-core
      // machine an app took 12-28 s before its first log line. A hang still fails, a minute later.
      60_000,
    );
  }

  static async start(
    apps: AppName[] = [...APP_NAMES],
    env: ExtraEnv = {},
    infrastructure: Infrastructure = {},
  ): Promise<TestSystem> {
    const system = new TestSystem(env, infrastructure);
    await system.prepare();
    try {
      await system.startApps(apps);
    } catch (error) {
      // The suite gets no system to stop: what it created would outlive it.
      await system.stop().catch(() => undefined);
      throw error;
    }
    return system;
  }

  /** The app processes by instance name. */
  get processes(): Map<string, ChildProcess> {
    return this.apps.processes;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      ...this.placeEnv(),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      DISPATCH_IDLE_POLL_MS: '250',
      // test/security/rate-limits sets its own.
      ...ONE_ADDRESS_LIMITS,
      ...(typeof this.extraEnv === 'function' ? this.extraEnv(this) : this.extraEnv),
    };
  }

  protected override instanceEnv(instance: string): Record<string, string> {
    return { DISPATCHER_NODE_ID: `${instance}-${this.id}` };
  }

  /**
   * Starts an app as a process. `instance` names a further replica (its own port, log and, for a
   * dispatcher, node id); by default the instance is the app itself.
   */
  startApp(app: AppName, instance: string = app, env: Record<string, string> = {}): Promise<void> {
    return this.apps.start(app, instance, env);
  }

  /** SIGKILL, no goodbye: what a crash looks like. Resolves once the process is gone. */
  kill(instance: string): Promise<void> {
    return this.apps.kill(instance);
  }

  /** The log lines (JSON) an instance wrote so far. */
  logLines(instance: string): Array<Record<string, unknown>> {
    return this.apps.logLines(instance);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with how long the process took to exit. */
  stopApp(instance: string, timeoutMs = 10_000): Promise<number> {
    return this.apps.stop(instance, timeoutMs);
  }

  /** Deletes this test's Redis keys (only its prefix: the Redis is shared) — Redis "lost its data". */
  flushRedis(): Promise<number> {
    return this.deleteRedisKeys((redis, keys) => redis.del(...keys));
  }

  /** Runs the CLI with this system's environment; returns its stdout. */
  cli(...args: string[]): string {
    const result = this.cliResult(...args);
    if (result.status !== 0) throw new Error(`cli ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  /**
   * Runs the CLI without blocking this process: receivers, phones and timers of the suite keep running
   * meanwhile (`cli` freezes them for the CLI's whole run, seconds on a loaded machine). Resolves with its
   * stdout; rejects when it exits non-zero.
   */
  cliInBackground(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', ALIASES, CLI, ...args], {
        cwd: REPO_ROOT,
        env: this.env(),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (status) =>
        status === 0 ? resolve(stdout) : reject(new Error(`cli ${args.join(' ')} failed: ${stderr}`)),
      );
    });
  }

  /** Runs the CLI with this system's environment; returns its exit status and output, whatever they are. */
  cliResult(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const { status, stdout, stderr } = spawnSync(process.execPath, ['-r', ALIASES, CLI, ...args], {
      cwd: REPO_ROOT,
      env: this.env(),
      encoding: 'utf8',
    });
    return { status, stdout, stderr };
  }

  /** Runs the account CLI against this system's database and returns the new account with its token. */
  createAccount(
    email = `user-${randomBytes(3).toString('hex')}@example.com`,
    password = 'correct horse battery',
  ): Account {
    const result = this.cliResult('user:create', '--email', email, '--password', password);
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

  stop(): Promise<void> {
    return this.tearDown(async () => {
      await this.pg?.end();
    });
  }
}
