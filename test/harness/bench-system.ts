import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { escapeIdentifier, Pool } from 'pg';
import { configVariables } from '@smsfleet/config';
import { registerPhoneWithToken } from '../../tools/simulator/fleet';
import { PhoneCredentials } from '../../tools/simulator/simulated-phone';
import { AppName } from './app-processes';
import { Infrastructure, ONE_ADDRESS_LIMITS, RealSystem } from './real-system';
import { ALIASES, CLI } from './repo-root';

export type { AppName } from './app-processes';

/** Where the system lives is the bench's choice; every other setting of the apps may be tried from outside. */
const SET_BY_THE_BENCH = new Set(['DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'NODE_ENV', 'LOG_LEVEL']);

/**
 * App settings given to the bench's own environment (e.g. `DISPATCH_QUEUE_CALLS_IN_FLIGHT=32 npm run bench
 * -- urgent-latency`): passed to the apps, and recorded with the run's command.
 */
export function appSettingsFromEnvironment(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const { name } of configVariables()) {
    const value = process.env[name];
    if (value !== undefined && !SET_BY_THE_BENCH.has(name) && !name.endsWith('_PORT')) settings[name] = value;
  }
  return settings;
}

const BASE_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Private servers (test/harness) for runs that restart them; the machine's shared ones by default. */
export type BenchInfrastructure = Infrastructure;

export interface BenchAccount {
  email: string;
  password: string;
  token: string;
}

/**
 * The real system for one scenario: a database and Redis prefix of its own (never the demo's), the apps as
 * separate processes on free ports, and clean-up of everything it created.
 */
export class BenchSystem extends RealSystem {
  /** Production mode requires a token secret: one of the run's own. */
  private readonly tokenSecret = randomBytes(32).toString('hex');
  private pool?: Pool;

  private constructor(
    private readonly extraEnv: Record<string, string>,
    infrastructure: BenchInfrastructure,
  ) {
    super(
      'bench',
      {
        databaseServerUrl: infrastructure.databaseServerUrl ?? BASE_DATABASE_URL,
        redisUrl: infrastructure.redisUrl ?? BENCH_REDIS_URL,
        redisEnv: infrastructure.redisEnv,
      },
      60_000,
    );
  }

  static async create(
    extraEnv: Record<string, string> = {},
    infrastructure: BenchInfrastructure = {},
  ): Promise<BenchSystem> {
    const system = new BenchSystem(extraEnv, infrastructure);
    await system.prepare();
    // An experiment's knob: what these indexes cost the writes (the API's listings lose them).
    for (const name of (process.env.BENCH_DROP_INDEXES ?? '').split(',').filter(Boolean))
      await system.db().query(`DROP INDEX ${escapeIdentifier(name)}`);
    return system;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TOKEN_SECRET: this.tokenSecret,
      // Fleet scenarios put thousands of phones in one account.
      DEVICES_MAX_PER_ACCOUNT: '1000000',
      ...appSettingsFromEnvironment(),
      NODE_ENV: 'production',
      ...this.placeEnv(),
      LOG_LEVEL: 'warn',
      ...ONE_ADDRESS_LIMITS,
      ...this.extraEnv,
    };
  }

  /** The apps' process ids by name, and this process's (it hosts the phones), for per-process figures. */
  processIds(): Record<string, number | undefined> {
    return {
      api: this.pidOf('api'),
      dispatcher: this.pidOf('dispatcher'),
      status: this.pidOf('status'),
      scheduler: this.pidOf('scheduler'),
      'bench (phones)': process.pid,
    };
  }

  /** kill -9 of one app, then the same app again on its port; resolves once it is live. */
  async crashAndRestart(app: AppName): Promise<void> {
    await this.apps.kill(app);
    await this.apps.start(app);
  }

  /**
   * Runs the CLI (tools/cli.ts) against this system, as an operator would, without blocking the event loop
   * (phones and load may be running meanwhile); its status and output.
   */
  cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['-r', ALIASES, CLI, ...args], {
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  createAccount(): BenchAccount {
    const email = `bench-${randomBytes(3).toString('hex')}@example.com`;
    const password = 'benchmark password';
    const result = spawnSync(
      process.execPath,
      ['-r', ALIASES, CLI, 'user:create', '--email', email, '--password', password],
      { env: this.env(), encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`user:create failed: ${result.stderr}`);
    return { email, password, token: (JSON.parse(result.stdout.trim()) as { token: string }).token };
  }

  /** Registers `count` phones over the public endpoint, a few at a time. */
  async registerPhones(
    account: BenchAccount,
    count: number,
    onProgress?: (done: number) => void,
  ): Promise<PhoneCredentials[]> {
    const phones: PhoneCredentials[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        phones.push(await registerPhoneWithToken(this.apiUrl, account.token, `bench phone ${next}`));
        onProgress?.(phones.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, count) }, worker));
    return phones.sort((a, b) => a.deviceId - b.deviceId);
  }

  db(): Pool {
    if (!this.pool) {
      this.pool = new Pool({ connectionString: this.databaseUrl, max: 8 });
      // An idle client whose server restarted (the soak's fault) is dropped; the next query connects anew.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  /** Stops the apps and removes what the run created; `keepLogs` leaves the apps' logs in `logDir`. */
  stop(options: { keepLogs?: boolean } = {}): Promise<void> {
    return this.tearDown(async () => {
      await this.pool?.end();
    }, options.keepLogs);
  }
}
