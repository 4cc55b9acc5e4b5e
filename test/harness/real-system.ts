import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { loadConfig } from '@smsfleet/config';
import { dropDatabase, runMigrations } from '@smsfleet/persistence';
import { createRedisClient } from '@smsfleet/queueing';
import { removeAppLogs } from './app-logs';
import { AppName, AppProcesses } from './app-processes';

/**
 * Which PostgreSQL server and Redis a system runs on: the machine's shared ones by default, or private
 * instances (postgres-cluster.ts, redis-server.ts) for faults that restart or starve the server itself.
 */
export interface Infrastructure {
  /** A URL of the server's maintenance database; the system creates its own database beside it. */
  databaseServerUrl?: string;
  redisUrl?: string;
  /**
   * The variables that place Redis instead of REDIS_URL (e.g. REDIS_SENTINELS and REDIS_SENTINEL_MASTER):
   * the apps get them, and the system's own client is made from them as the apps make theirs.
   */
  redisEnv?: Record<string, string>;
}

/**
 * Every simulated phone and client of a run shares one IP address: the per-address limits would refuse
 * them as one abuser. A run that tests the limits sets its own.
 */
export const ONE_ADDRESS_LIMITS: Readonly<Record<string, string>> = {
  RATE_LIMIT_CREDENTIALS_PER_IP: '10000000',
  RATE_LIMIT_REGISTRATIONS_PER_IP: '10000000',
  RATE_LIMIT_FAILED_LOGINS_PER_EMAIL: '10000000',
  PHONE_LIMIT_HANDSHAKES_PER_ADDRESS: '10000000',
  PHONE_LIMIT_FAILED_HANDSHAKES_PER_ADDRESS: '10000000',
  PHONE_LIMIT_ADDRESS_EVENTS_PER_SECOND: '10000000',
  PHONE_LIMIT_ADDRESS_REPORTS_PER_SECOND: '10000000',
  PHONE_LIMIT_ADDRESS_REQUESTS_PER_SECOND: '10000000',
  PHONE_LIMIT_STREAMS_PER_ADDRESS: '10000000',
};

function runTag(): string {
  const tag = process.env.SMSFLEET_RUN_TAG ?? '';
  if (!/^[a-z0-9]*$/.test(tag))
    throw new Error(`SMSFLEET_RUN_TAG "${tag}" must be lower-case letters and digits`);
  return tag;
}

/**
 * The real system of one test file or one bench scenario: a PostgreSQL database and a Redis key prefix of
 * its own (never the demo's), the compiled apps as processes (AppProcesses), and removal of all of it at
 * the end. TestSystem and BenchSystem add what their callers need (environment, clients, CLI runs).
 */
export abstract class RealSystem {
  /**
   * `SMSFLEET_RUN_TAG` (letters and digits) starts the id of every system of a run, so that a run checking
   * what it left behind (test/helpers/bench-smoke.ts) can tell its databases and keys from a concurrent run's.
   */
  readonly id = `${runTag()}${randomBytes(4).toString('hex')}`;
  readonly databaseUrl: string;
  readonly redisPrefix: string;
  readonly redisUrl: string;
  /** The variables that place Redis in every app's environment. */
  readonly redisEnv: Record<string, string>;
  readonly logDir: string;
  protected readonly apps: AppProcesses;
  private redisClient?: IORedis;

  protected constructor(
    kind: 'test' | 'bench',
    infrastructure: Required<Omit<Infrastructure, 'redisEnv'>> & Pick<Infrastructure, 'redisEnv'>,
    startTimeoutMs: number,
  ) {
    this.redisPrefix = `smsfleet-${kind}-${this.id}`;
    this.logDir = join(tmpdir(), `smsfleet-${kind}-${this.id}`);
    this.redisUrl = infrastructure.redisUrl;
    this.redisEnv = infrastructure.redisEnv ?? { REDIS_URL: infrastructure.redisUrl };
    const url = new URL(infrastructure.databaseServerUrl);
    url.pathname = `/smsfleet_${kind}_${this.id}`;
    this.databaseUrl = url.toString();
    this.apps = new AppProcesses({
      logDir: this.logDir,
      env: () => this.env(),
      instanceEnv: (instance) => this.instanceEnv(instance),
      startTimeoutMs,
    });
  }

  /** The environment of every app of this system. */
  abstract env(): NodeJS.ProcessEnv;

  protected instanceEnv(_instance: string): Record<string, string> {
    return {};
  }

  /** Creates the database (migrated) and gives each app a port; no app runs yet. */
  protected async prepare(): Promise<void> {
    await runMigrations(this.databaseUrl);
    await this.apps.assignPorts();
  }

  /** The variables that tell each app where the database, Redis and the other apps are. */
  protected placeEnv(): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      ...this.redisEnv,
      REDIS_PREFIX: this.redisPrefix,
      API_PORT: String(this.ports.api),
      DISPATCHER_PORT: String(this.ports.dispatcher),
      SCHEDULER_PORT: String(this.ports.scheduler),
      STATUS_PORT: String(this.ports.status),
    };
  }

  /** Port of each app instance ("dispatcher", or a second one such as "dispatcher-b"). */
  get ports(): Record<string, number> {
    return this.apps.ports;
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

  pidOf(instance: string): number | undefined {
    return this.apps.pidOf(instance);
  }

  redis(): IORedis {
    if (!this.redisClient) {
      this.redisClient = createRedisClient(loadConfig(this.redisEnv).redis, { maxRetriesPerRequest: 3 });
      // A fault stops Redis under it: its commands fail (or wait) by themselves, the events are noise.
      this.redisClient.on('error', () => undefined);
    }
    return this.redisClient;
  }

  /** Deletes this system's Redis keys (only its prefix: the Redis may be shared); how many there were. */
  protected async deleteRedisKeys(
    remove: (redis: IORedis, keys: string[]) => Promise<number>,
  ): Promise<number> {
    const redis = this.redis();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await remove(redis, keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  }

  /** Stops the apps, drops the database and the Redis keys; `keepLogs` leaves the apps' logs in `logDir`. */
  protected async tearDown(closeDatabase: () => Promise<void>, keepLogs = false): Promise<void> {
    await this.apps.stopAll(10_000);
    await closeDatabase().catch(() => undefined);
    await dropDatabase(this.databaseUrl).catch(() => undefined);
    await this.deleteRedisKeys((redis, keys) => redis.unlink(...keys));
    await this.redis().quit();
    removeAppLogs(this.logDir, keepLogs);
  }

  /** Starts the apps together and resolves once all are live; a failed start stops the others. */
  async startApps(apps: readonly AppName[]): Promise<void> {
    await this.apps.startAll(apps);
  }
}
