import { hostname } from 'node:os';
import { ConfigError } from './config-error';
import { EnvReader } from './env-reader';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The whole validated configuration, read once from the environment at start-up. */
export interface AppConfig {
  nodeEnv: string;
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key smsfleet writes (BullMQ queues included). */
  redisPrefix: string;
  logLevel: (typeof LOG_LEVELS)[number];
  api: { host: string; port: number };
  dispatcher: { host: string; port: number; nodeId: string; ackTimeoutMs: number; idlePollMs: number };
  scheduler: { host: string; port: number; horizonSeconds: number; sweepIntervalMs: number };
  status: { host: string; port: number; batchSize: number; batchWaitMs: number };
  /**
   * Server secret from which API tokens are derived (so gettoken can hand out the same token again).
   * Unset: a random secret generated for this installation by the first migration is used.
   */
  tokenSecret?: string;
  messages: { validitySeconds: number; maxBodyLength: number };
  devices: { defaultWindow: number };
  /** On SIGTERM, readiness turns red and the app keeps serving this long before it stops. */
  readinessDrainMs: number;
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  read = new EnvReader(env),
): AppConfig {
  const nodeEnv = read.string('NODE_ENV', 'development');
  const tokenSecret = read.optionalString('TOKEN_SECRET');
  if (tokenSecret !== undefined && tokenSecret.length < 16) {
    throw new ConfigError('TOKEN_SECRET', 'must be at least 16 characters long');
  }
  const prefix = read.string('REDIS_PREFIX', 'smsfleet');
  if (prefix.includes(':')) throw new ConfigError('REDIS_PREFIX', `may not contain ":" (got "${prefix}")`);
  return {
    nodeEnv,
    databaseUrl: read.url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/smsfleet', [
      'postgres:',
      'postgresql:',
    ]),
    redisUrl: read.url('REDIS_URL', 'redis://127.0.0.1:6379/0', ['redis:', 'rediss:']),
    redisPrefix: prefix,
    logLevel: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    api: { host: read.string('API_HOST', '127.0.0.1'), port: read.port('API_PORT', 3000) },
    dispatcher: {
      host: read.string('DISPATCHER_HOST', '127.0.0.1'),
      port: read.port('DISPATCHER_PORT', 3001),
      nodeId: read.string('DISPATCHER_NODE_ID', `${hostname()}-${process.pid}`),
      ackTimeoutMs: read.int('DISPATCH_ACK_TIMEOUT_MS', 15_000, 100, 600_000),
      idlePollMs: read.int('DISPATCH_IDLE_POLL_MS', 1_000, 50, 60_000),
    },
    scheduler: {
      host: read.string('SCHEDULER_HOST', '127.0.0.1'),
      port: read.port('SCHEDULER_PORT', 3002),
      horizonSeconds: read.int('SCHEDULE_HORIZON_SECONDS', 600, 1, 86_400),
      sweepIntervalMs: read.int('SCHEDULER_SWEEP_INTERVAL_MS', 1_000, 50, 60_000),
    },
    status: {
      host: read.string('STATUS_HOST', '127.0.0.1'),
      port: read.port('STATUS_PORT', 3003),
      batchSize: read.int('STATUS_BATCH_SIZE', 500, 1, 10_000),
      batchWaitMs: read.int('STATUS_BATCH_WAIT_MS', 20, 0, 5_000),
    },
    tokenSecret,
    messages: {
      validitySeconds: read.int('MESSAGE_VALIDITY_SECONDS', 86_400, 60, 30 * 86_400),
      maxBodyLength: read.int('MESSAGE_MAX_BODY_LENGTH', 4_096, 1, 65_536),
    },
    devices: { defaultWindow: read.int('DEVICE_DEFAULT_WINDOW', 10, 1, 1_000) },
    readinessDrainMs: read.int('READINESS_DRAIN_MS', 0, 0, 60_000),
  };
}
