import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Pool } from 'pg';
import { dropDatabase, runMigrations } from '@smsfleet/persistence';
import { registerPhone } from '../simulator/fleet';
import { PhoneCredentials } from '../simulator/simulated-phone';
import { AppName, AppSupervisor } from '../supervisor/app-supervisor';
import { freePort } from '../supervisor/free-port';

const ROOT = join(__dirname, '..', '..', '..');
const BASE_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface BenchAccount {
  email: string;
  password: string;
  token: string;
}

/**
 * The real system for one scenario: a database and Redis prefix of its own (never the demo's), the apps as
 * separate processes on free ports, and clean-up of everything it created.
 */
export class BenchSystem {
  readonly id = randomBytes(4).toString('hex');
  readonly databaseUrl: string;
  readonly redisPrefix = `smsfleet-bench-${this.id}`;
  readonly ports = {} as Record<AppName, number>;
  readonly logDir = join(tmpdir(), `smsfleet-bench-${this.id}`);
  private supervisor?: AppSupervisor;
  private pool?: Pool;
  private redisClient?: IORedis;

  private constructor(private readonly extraEnv: Record<string, string>) {
    const url = new URL(BASE_DATABASE_URL);
    url.pathname = `/smsfleet_bench_${this.id}`;
    this.databaseUrl = url.toString();
  }

  static async create(extraEnv: Record<string, string> = {}): Promise<BenchSystem> {
    const system = new BenchSystem(extraEnv);
    await runMigrations(system.databaseUrl);
    for (const app of ['api', 'scheduler', 'dispatcher', 'status'] as AppName[])
      system.ports[app] = await freePort();
    return system;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: BENCH_REDIS_URL,
      REDIS_PREFIX: this.redisPrefix,
      API_PORT: String(this.ports.api),
      DISPATCHER_PORT: String(this.ports.dispatcher),
      SCHEDULER_PORT: String(this.ports.scheduler),
      STATUS_PORT: String(this.ports.status),
      LOG_LEVEL: 'warn',
      // Every simulated phone and client shares one IP here.
      RATE_LIMIT_CREDENTIALS_PER_IP: '10000000',
      RATE_LIMIT_REGISTRATIONS_PER_IP: '10000000',
      ...this.extraEnv,
    };
  }

  async startApps(apps: AppName[]): Promise<void> {
    this.supervisor ??= new AppSupervisor(this.env(), this.logDir);
    for (const app of apps) this.supervisor.start(app, this.ports[app]);
    await this.supervisor.waitUntilLive();
  }

  pidOf(app: AppName): number | undefined {
    return this.supervisor?.pidOf(app);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.api}`;
  }

  get dispatcherUrl(): string {
    return `http://127.0.0.1:${this.ports.dispatcher}`;
  }

  createAccount(): BenchAccount {
    const email = `bench-${randomBytes(3).toString('hex')}@example.com`;
    const password = 'benchmark password';
    const result = spawnSync(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register-aliases.js'),
        join(ROOT, 'dist/tools/cli.js'),
        'user:create',
        '--email',
        email,
        '--password',
        password,
      ],
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
        phones.push(await registerPhone(this.apiUrl, account.email, account.password, `bench phone ${next}`));
        onProgress?.(phones.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, count) }, worker));
    return phones.sort((a, b) => a.deviceId - b.deviceId);
  }

  db(): Pool {
    this.pool ??= new Pool({ connectionString: this.databaseUrl, max: 8 });
    return this.pool;
  }

  redis(): IORedis {
    this.redisClient ??= new IORedis(BENCH_REDIS_URL, { maxRetriesPerRequest: 3 });
    return this.redisClient;
  }

  async stop(): Promise<void> {
    await this.supervisor?.stopAll(10_000);
    await this.pool?.end().catch(() => undefined);
    await dropDatabase(this.databaseUrl).catch(() => undefined);
    const redis = this.redis();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}:*`, 'COUNT', 5000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
  }
}
