import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { ConfigError } from './config-error';
import { EnvReader } from './env-reader';
import { DatabaseTlsFiles, readDatabaseTls } from './database-ssl';
import { readRedisSettings, RedisSettings } from './redis-settings';
import { placeholderProblem, weakSecretProblem } from './secret-strength';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The whole validated configuration, read once from the environment at start-up. */
export interface AppConfig {
  /** Which app this process runs (each entry point sets it): names its connections and labels its metrics. */
  app: string;
  nodeEnv: string;
  databaseUrl: string;
  /** Certificate files for TLS to PostgreSQL (whose `sslmode` is in the URL). */
  databaseTls: DatabaseTlsFiles;
  /** Where Redis is (one URL, or Sentinel), its credentials and TLS: every Redis client is made from it. */
  redis: RedisSettings;
  /** Prefix of every Redis key smsfleet writes (BullMQ queues included). */
  redisPrefix: string;
  logLevel: (typeof LOG_LEVELS)[number];
  api: {
    host: string;
    port: number;
    trustProxy: TrustProxy;
    rateLimits: RateLimitsConfig;
    /** A request must have arrived whole (headers and body) within this time. */
    requestTimeoutMs: number;
    /** Largest `addalotofsms` body. */
    bulkBodyLimitBytes: number;
    /** Bytes of bodies larger than 1 MB (bulk requests, images) being received at once by one process. */
    largeBodiesInFlightBytes: number;
    /** PostgreSQL cancels an API statement that runs longer (the request answers 503). */
    statementTimeoutMs: number;
    /** Listings (getallsms, getalldevices) of one account running at once in one API process. */
    listingsPerAccount: number;
    /** Listings of all accounts running at once in one API process. */
    listingsInFlight: number;
    /** `addalotofsms` requests of one account being read, parsed or stored at once in one API process. */
    bulksPerAccount: number;
  };
  dispatcher: {
    host: string;
    port: number;
    nodeId: string;
    ackTimeoutMs: number;
    idlePollMs: number;
    /** Sends of one message without an ack before it ends as 204 (No ack from phone). */
    maxUnackedSends: number;
    /** Fetches and completions of all phones of one dispatcher in flight at once (urgent ones exempt). */
    queueCallsInFlight: number;
    /** Which `X-Forwarded-For` hops the dispatcher believes for a phone's address (as `api.trustProxy`). */
    trustProxy: TrustProxy;
    phoneLimits: PhoneLimitsConfig;
  };
  scheduler: {
    host: string;
    port: number;
    horizonSeconds: number;
    sweepIntervalMs: number;
    expiryIntervalMs: number;
    /** Idempotency keys older than this are deleted (a retry after that is a new request). */
    idempotencyKeyRetentionSeconds: number;
    /** How often the scheduler checks whether Redis lost its data (and then rebuilds the queues). */
    redisLossCheckIntervalMs: number;
    /** How often the scheduler stores the counts of hours that closed (the overview's chart). */
    hourRollupIntervalMs: number;
    /** How often the pool mover looks for messages waiting behind a draining pool member (ADR 2221). */
    poolMoveIntervalMs: number;
    /** How long a pool member may be offline before its untaken messages move to another member. */
    poolOfflineGraceSeconds: number;
  };
  status: {
    host: string;
    port: number;
    /** Inbox rows the status app claims and applies per transaction (in each of its lanes). */
    batchSize: number;
    /** How long a status lane waits before looking at an inbox it found less than a batch in. */
    batchWaitMs: number;
    /** Reports one dispatcher gathers for one INSERT into the inbox, at most. */
    intakeBatchSize: number;
    /** How long a dispatcher gathers reports (of all its phones) for one INSERT before the ack. */
    intakeBatchWaitMs: number;
  };
  /**
   * The secret API tokens are sealed with (so gettoken can hand out the same token again); it never enters
   * the database. Unset: required in production; elsewhere a generated development secret (libs/auth).
   */
  tokenSecret?: string;
  /** Earlier token secrets, still accepted to open tokens sealed (or derived) with them. */
  tokenSecretsPrevious: string[];
  /** How long an API replica remembers a token it found (a rotation elsewhere also reaches it by a signal). */
  tokenCacheMs: number;
  messages: { validitySeconds: number; reportTimeoutSeconds: number; maxBodyLength: number };
  /** `maxPerAccount`: devices an account may have (removed ones do not count). */
  devices: { defaultWindow: number; maxPerAccount: number };
  /** Contacts (numbers) an account may keep: each newsletter to them becomes one message per contact. */
  contacts: { maxPerAccount: number; maxTagsPerAccount: number };
  webhooks: WebhooksConfig;
  /** On SIGTERM, readiness turns red and the app keeps serving this long before it stops. */
  readinessDrainMs: number;
  /**
   * A port of its own for `/metrics` and `/health/ready` (on the app's host), which the app's port then no
   * longer serves; 0: both on the app's port.
   */
  monitoringPort: number;
  uploads: UploadsConfig;
  /**
   * The queue dashboard (`/admin/queues`, HTTP Basic); off while no password is set. Read-only unless
   * `writable`: adding, retrying or promoting a job there sends an SMS through a tenant's phone.
   */
  admin: { user: string; password?: string; writable: boolean };
}

/**
 * Which proxies' X-Forwarded-For the API believes: none (`false`: the socket's address is the client), the
 * last `n` hops (a count), or the hops whose address is in a list (addresses, CIDRs, or proxy-addr's names
 * `loopback`, `linklocal`, `uniquelocal`). Never "every hop": the leftmost entry is the client's to write.
 */
export type TrustProxy = false | number | string[];

/** Brute-force limits of the API, counted in Redis per fixed window (shared by every API replica). */
export interface RateLimitsConfig {
  windowSeconds: number;
  /** Checks of an email + password from one client IP, successful or not. */
  credentialsPerIp: number;
  /** Failed checks of one email's password, from anywhere. */
  failedLoginsPerEmail: number;
  /** Phone registrations from one client IP. */
  registrationsPerIp: number;
}

/**
 * What one phone, and one address, may send to a dispatcher (ADR 1602). Rates are token buckets (a burst of
 * ten seconds' worth) counted in each dispatcher process; handshakes per address are also counted in Redis
 * per fixed window, across dispatcher nodes.
 */
export interface PhoneLimitsConfig {
  windowSeconds: number;
  /** Handshakes (socket.io) and app registrations from one address per window, all nodes together. */
  handshakesPerAddress: number;
  /** Failed handshakes and unknown app tokens from one address per window, all nodes together. */
  failedHandshakesPerAddress: number;
  /** Failed handshakes naming one device id per window (in each process). */
  failedHandshakesPerDevice: number;
  /** Handshakes of one node checking their secret against the database at once. */
  handshakesInFlight: number;
  /** `hello`, `incoming` and any other event of one phone, per second. */
  eventsPerSecond: number;
  /** Status reports (each item of a `status` array counts) of one phone, per second. */
  reportsPerSecond: number;
  /** The same two, and the app's requests, summed over the phones of one address, per second. */
  addressEventsPerSecond: number;
  addressReportsPerSecond: number;
  /** Requests of one SMSGate app to `/mobile/v1`, per second. */
  requestsPerSecond: number;
  addressRequestsPerSecond: number;
  /** Events refused within ten seconds before the phone is sent away (`goodbye`). */
  refusalsBeforeGoodbye: number;
  /** How long a phone sent away waits before its next handshake is accepted. */
  goodbyeRetryAfterMs: number;
  /** SMSGate event streams open on one node, and from one address. */
  streamsPerNode: number;
  streamsPerAddress: number;
}

/** Webhooks (docs/webhooks.md): subscriptions (api) and their delivery worker (status app). */
export interface WebhooksConfig {
  /** Whether this process delivers (the status app by default; `off` to run delivery as its own deployment). */
  delivery: boolean;
  /** Operator setting: deliver to loopback, private and link-local addresses (tests, LAN installs). */
  allowPrivateTargets: boolean;
  /** One POST: connect, send, answer. */
  timeoutMs: number;
  /** First retry's ceiling, doubling per attempt (full jitter), up to retryMaxDelayMs. */
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** A delivery is given up this long after its first attempt. */
  retryWindowMs: number;
  /** A subscription whose every delivery failed this long is disabled. */
  disableAfterMs: number;
  /** Subscriptions one account may have. */
  maxPerAccount: number;
  /** How often an idle worker looks for due deliveries. */
  pollMs: number;
  /** Deliveries one worker process sends at once. */
  concurrency: number;
  /** A device offline this long is announced offline (`device.offline`); one back sooner is not news. */
  offlineGraceMs: number;
  /** How often the scheduler compares devices' presence with what was announced. */
  presenceSweepMs: number;
  /** Ended events (every delivery delivered or given up) older than this are deleted by the scheduler. */
  retentionSeconds: number;
}

/** Images sent with `addsms` (`file`): where they are stored and the URL recipients fetch them from. */
export interface UploadsConfig {
  maxBytes: number;
  /** Bytes of stored uploads one account may hold at once. */
  quotaBytesPerAccount: number;
  /** Uploads older than this are deleted (their URLs then answer 404). */
  retentionDays: number;
  /** How often the API looks for uploads past their retention. */
  sweepIntervalMs: number;
  driver: 'local' | 's3';
  /** Local driver: the directory the API stores and serves files from. */
  localDir: string;
  /** Base URL of the API as recipients reach it; local files are served under `<publicUrl>/files/`. */
  publicUrl: string;
  s3?: S3Config;
}

export interface S3Config {
  bucket: string;
  region: string;
  /** S3-compatible services (MinIO, R2, …); unset: AWS. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Base URL under which objects are public (e.g. a CDN); the key is appended. */
  publicUrl: string;
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  read = new EnvReader(env),
): AppConfig {
  const nodeEnv = read.string('NODE_ENV', 'development');
  const tokenSecret = read.optionalString('TOKEN_SECRET');
  const weakToken = tokenSecret === undefined ? undefined : weakSecretProblem(tokenSecret);
  if (weakToken)
    throw new ConfigError('TOKEN_SECRET', `${weakToken}: generate one with openssl rand -hex 32`);
  const tokenSecretsPrevious = (read.optionalString('TOKEN_SECRET_PREVIOUS') ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  for (const previous of tokenSecretsPrevious) {
    // Older installations accepted 16 characters; a placeholder would let anyone compute their tokens.
    const problem =
      placeholderProblem(previous) ?? (previous.length < 16 ? 'is shorter than 16 characters' : undefined);
    if (problem) throw new ConfigError('TOKEN_SECRET_PREVIOUS', `holds a value that ${problem}`);
  }
  const adminPassword = read.optionalString('ADMIN_PASSWORD');
  if (adminPassword !== undefined && adminPassword.length < 12) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 12 characters long');
  }
  if (adminPassword !== undefined && placeholderProblem(adminPassword))
    throw new ConfigError('ADMIN_PASSWORD', 'is a placeholder, not a password');
  const prefix = read.string('REDIS_PREFIX', 'smsfleet');
  const api = {
    host: read.string('API_HOST', '127.0.0.1'),
    port: read.port('API_PORT', 3000),
    trustProxy: readTrustProxy(read, 'API_TRUST_PROXY'),
    rateLimits: {
      windowSeconds: read.int('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
      credentialsPerIp: read.int('RATE_LIMIT_CREDENTIALS_PER_IP', 600, 1, 10_000_000),
      failedLoginsPerEmail: read.int('RATE_LIMIT_FAILED_LOGINS_PER_EMAIL', 10, 1, 10_000_000),
      registrationsPerIp: read.int('RATE_LIMIT_REGISTRATIONS_PER_IP', 60, 1, 10_000_000),
    },
    requestTimeoutMs: read.int('API_REQUEST_TIMEOUT_MS', 60_000, 1_000, 3_600_000),
    bulkBodyLimitBytes: read.int('API_BULK_BODY_LIMIT_BYTES', 16 * 1_048_576, 1_048_576, 48 * 1_048_576),
    largeBodiesInFlightBytes: read.int(
      'API_LARGE_BODIES_IN_FLIGHT_BYTES',
      256 * 1_048_576,
      1_048_576,
      Number.MAX_SAFE_INTEGER,
    ),
    statementTimeoutMs: read.int('API_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    listingsPerAccount: read.int('API_LISTINGS_PER_ACCOUNT', 2, 1, 1_000),
    listingsInFlight: read.int('API_LISTINGS_IN_FLIGHT', 8, 1, 1_000),
    bulksPerAccount: read.int('API_BULK_CONCURRENCY_PER_ACCOUNT', 4, 1, 1_000),
  };
  if (api.largeBodiesInFlightBytes < api.bulkBodyLimitBytes)
    throw new ConfigError(
      'API_LARGE_BODIES_IN_FLIGHT_BYTES',
      `must hold at least one bulk body (API_BULK_BODY_LIMIT_BYTES, ${api.bulkBodyLimitBytes})`,
    );
  if (prefix.includes(':')) throw new ConfigError('REDIS_PREFIX', `may not contain ":" (got "${prefix}")`);
  const databaseUrl = read.url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/smsfleet', [
    'postgres:',
    'postgresql:',
  ]);
  const databaseTls = readDatabaseTls(read, databaseUrl);
  const redis = readRedisSettings(read, nodeEnv === 'production');
  if (nodeEnv === 'production') refusePlaceholderPassword('DATABASE_URL', databaseUrl);
  return {
    app: read.string('SMSFLEET_APP', 'app'),
    nodeEnv,
    databaseUrl,
    databaseTls,
    redis,
    redisPrefix: prefix,
    logLevel: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    api,
    dispatcher: {
      host: read.string('DISPATCHER_HOST', '127.0.0.1'),
      port: read.port('DISPATCHER_PORT', 3001),
      nodeId: read.string('DISPATCHER_NODE_ID', `${hostname()}-${process.pid}`),
      ackTimeoutMs: read.int('DISPATCH_ACK_TIMEOUT_MS', 15_000, 100, 600_000),
      idlePollMs: read.int('DISPATCH_IDLE_POLL_MS', 1_000, 50, 60_000),
      maxUnackedSends: read.int('DISPATCH_MAX_UNACKED_SENDS', 5, 1, 1_000),
      queueCallsInFlight: read.int('DISPATCH_QUEUE_CALLS_IN_FLIGHT', 16, 1, 100_000),
      trustProxy: readTrustProxy(read, 'DISPATCHER_TRUST_PROXY'),
      phoneLimits: readPhoneLimits(read),
    },
    scheduler: {
      host: read.string('SCHEDULER_HOST', '127.0.0.1'),
      port: read.port('SCHEDULER_PORT', 3002),
      horizonSeconds: read.int('SCHEDULE_HORIZON_SECONDS', 600, 1, 86_400),
      sweepIntervalMs: read.int('SCHEDULER_SWEEP_INTERVAL_MS', 1_000, 50, 60_000),
      expiryIntervalMs: read.int('SCHEDULER_EXPIRY_INTERVAL_MS', 5_000, 100, 600_000),
      idempotencyKeyRetentionSeconds: read.int('IDEMPOTENCY_KEY_RETENTION_SECONDS', 86_400, 60, 365 * 86_400),
      redisLossCheckIntervalMs: read.int('REDIS_LOSS_CHECK_INTERVAL_MS', 5_000, 100, 600_000),
      hourRollupIntervalMs: read.int('SCHEDULER_HOUR_ROLLUP_INTERVAL_MS', 60_000, 100, 3_600_000),
      poolMoveIntervalMs: read.int('POOL_MOVE_INTERVAL_MS', 1_000, 50, 60_000),
      poolOfflineGraceSeconds: read.int('POOL_OFFLINE_GRACE_SECONDS', 60, 1, 86_400),
    },
    status: {
      host: read.string('STATUS_HOST', '127.0.0.1'),
      port: read.port('STATUS_PORT', 3003),
      batchSize: read.int('STATUS_BATCH_SIZE', 500, 1, 10_000),
      batchWaitMs: read.int('STATUS_BATCH_WAIT_MS', 20, 0, 5_000),
      intakeBatchSize: read.int('STATUS_INTAKE_BATCH_SIZE', 1_000, 1, 10_000),
      intakeBatchWaitMs: read.int('STATUS_INTAKE_BATCH_WAIT_MS', 2, 0, 1_000),
    },
    tokenSecret,
    tokenSecretsPrevious,
    tokenCacheMs: read.int('API_TOKEN_CACHE_MS', 5_000, 0, 60_000),
    messages: {
      validitySeconds: read.int('MESSAGE_VALIDITY_SECONDS', 86_400, 60, 30 * 86_400),
      reportTimeoutSeconds: read.int('MESSAGE_REPORT_TIMEOUT_SECONDS', 86_400, 60, 30 * 86_400),
      maxBodyLength: read.int('MESSAGE_MAX_BODY_LENGTH', 4_096, 1, 65_536),
    },
    devices: {
      defaultWindow: read.int('DEVICE_DEFAULT_WINDOW', 10, 1, 1_000),
      maxPerAccount: read.int('DEVICES_MAX_PER_ACCOUNT', 1_000, 1, 1_000_000),
    },
    contacts: {
      maxPerAccount: read.int('CONTACTS_MAX_PER_ACCOUNT', 100_000, 1, 100_000_000),
      maxTagsPerAccount: read.int('TAGS_MAX_PER_ACCOUNT', 10_000, 1, 10_000_000),
    },
    webhooks: readWebhooks(read),
    readinessDrainMs: read.int('READINESS_DRAIN_MS', 0, 0, 60_000),
    monitoringPort: read.port('MONITORING_PORT', 0),
    uploads: readUploads(read, `http://${api.host}:${api.port}`),
    admin: {
      user: read.string('ADMIN_USER', 'admin'),
      password: adminPassword,
      writable: read.flag('ADMIN_QUEUES_WRITABLE', false),
    },
  };
}

function readWebhooks(read: EnvReader): WebhooksConfig {
  const seconds = (name: string, fallback: number, min: number, max: number) =>
    read.int(name, fallback, min, max) * 1_000;
  const delivery = read.oneOf('WEBHOOK_DELIVERY', 'on', ['on', 'off'] as const);
  const config: WebhooksConfig = {
    delivery: delivery === 'on',
    allowPrivateTargets: read.flag('WEBHOOK_ALLOW_PRIVATE_TARGETS', false),
    timeoutMs: seconds('WEBHOOK_TIMEOUT_SECONDS', 10, 1, 60),
    retryBaseMs: seconds('WEBHOOK_RETRY_BASE_SECONDS', 10, 1, 3_600),
    retryMaxDelayMs: seconds('WEBHOOK_RETRY_MAX_DELAY_SECONDS', 3_600, 1, 86_400),
    retryWindowMs: seconds('WEBHOOK_RETRY_WINDOW_SECONDS', 259_200, 1, 30 * 86_400),
    disableAfterMs: seconds('WEBHOOK_DISABLE_AFTER_SECONDS', 259_200, 1, 30 * 86_400),
    maxPerAccount: read.int('WEBHOOKS_MAX_PER_ACCOUNT', 20, 1, 1_000),
    pollMs: read.int('WEBHOOK_POLL_MS', 250, 10, 60_000),
    concurrency: read.int('WEBHOOK_CONCURRENCY', 16, 1, 1_000),
    offlineGraceMs: seconds('WEBHOOK_OFFLINE_GRACE_SECONDS', 60, 0, 86_400),
    presenceSweepMs: read.int('WEBHOOK_PRESENCE_SWEEP_MS', 5_000, 100, 600_000),
    retentionSeconds: read.int('WEBHOOK_RETENTION_SECONDS', 604_800, 60, 3_650 * 86_400),
  };
  if (config.retryMaxDelayMs < config.retryBaseMs)
    throw new ConfigError('WEBHOOK_RETRY_MAX_DELAY_SECONDS', 'must be at least WEBHOOK_RETRY_BASE_SECONDS');
  return config;
}

function readUploads(read: EnvReader, apiUrl: string): UploadsConfig {
  const driver = read.oneOf('STORAGE_DRIVER', 'local', ['local', 's3'] as const);
  const uploads: UploadsConfig = {
    maxBytes: read.int('UPLOAD_MAX_BYTES', 5 * 1_048_576, 1_024, 100 * 1_048_576),
    quotaBytesPerAccount: read.int(
      'UPLOAD_QUOTA_BYTES_PER_ACCOUNT',
      100 * 1_048_576,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    retentionDays: read.int('UPLOAD_RETENTION_DAYS', 30, 1, 3_650),
    sweepIntervalMs: read.int('UPLOAD_SWEEP_INTERVAL_MS', 3_600_000, 100, 86_400_000),
    driver,
    localDir: read.string('UPLOAD_DIR', '.smsfleet/uploads'),
    publicUrl: stripSlash(read.url('PUBLIC_URL', apiUrl, ['http:', 'https:'])),
  };
  // Read whatever the driver, so that configVariables() lists them too.
  const bucket = read.optionalString('S3_BUCKET');
  const region = read.string('S3_REGION', 'us-east-1');
  const endpoint = read.optionalString('S3_ENDPOINT');
  const accessKeyId = read.optionalString('S3_ACCESS_KEY_ID');
  const secretAccessKey = read.optionalString('S3_SECRET_ACCESS_KEY');
  const forcePathStyle = read.flag('S3_FORCE_PATH_STYLE', endpoint !== undefined);
  const publicBase = read.optionalString('S3_PUBLIC_URL');
  if (driver !== 's3') return uploads;
  if (bucket === undefined) throw new ConfigError('S3_BUCKET', 'is required when STORAGE_DRIVER is s3');
  if (endpoint !== undefined) read.url('S3_ENDPOINT', endpoint, ['http:', 'https:']);
  const defaultPublic =
    endpoint !== undefined
      ? `${stripSlash(endpoint)}/${bucket}`
      : `https://${bucket}.s3.${region}.amazonaws.com`;
  uploads.s3 = {
    bucket,
    region,
    endpoint,
    accessKeyId,
    secretAccessKey,
    forcePathStyle,
    publicUrl: stripSlash(read.url('S3_PUBLIC_URL', publicBase ?? defaultPublic, ['http:', 'https:'])),
  };
  return uploads;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * API_TRUST_PROXY: `false` (default), a hop count, or a list of proxy addresses. The older `true` meant
 * "trust every hop", which lets any client choose its IP; it now means one hop (a single proxy in front),
 * what such installations had.
 */
function readTrustProxy(read: EnvReader, variable: string): TrustProxy {
  const value = read.string(variable, 'false').toLowerCase();
  if (['false', 'no', '0'].includes(value)) return false;
  if (['true', 'yes'].includes(value)) return 1;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !PROXY_NAMES.has(entry) && !isAddressOrCidr(entry));
  if (bad !== undefined || entries.length === 0)
    throw new ConfigError(
      variable,
      `must be false, the number of proxies in front (1, 2, …) or their addresses/CIDRs separated by commas (got "${bad ?? value}")`,
    );
  return entries;
}

/** Defaults measured against the simulator at full pace (ADR 1602): several times what it sends. */
function readPhoneLimits(read: EnvReader): PhoneLimitsConfig {
  const perSecond = (name: string, fallback: number) => read.int(name, fallback, 1, 100_000_000);
  return {
    windowSeconds: read.int('PHONE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
    handshakesPerAddress: perSecond('PHONE_LIMIT_HANDSHAKES_PER_ADDRESS', 3_000),
    failedHandshakesPerAddress: perSecond('PHONE_LIMIT_FAILED_HANDSHAKES_PER_ADDRESS', 60),
    failedHandshakesPerDevice: perSecond('PHONE_LIMIT_FAILED_HANDSHAKES_PER_DEVICE', 10),
    handshakesInFlight: read.int('PHONE_LIMIT_HANDSHAKES_IN_FLIGHT', 8, 1, 1_000),
    eventsPerSecond: perSecond('PHONE_LIMIT_EVENTS_PER_SECOND', 50),
    reportsPerSecond: perSecond('PHONE_LIMIT_REPORTS_PER_SECOND', 5_000),
    addressEventsPerSecond: perSecond('PHONE_LIMIT_ADDRESS_EVENTS_PER_SECOND', 5_000),
    addressReportsPerSecond: perSecond('PHONE_LIMIT_ADDRESS_REPORTS_PER_SECOND', 50_000),
    requestsPerSecond: perSecond('PHONE_LIMIT_REQUESTS_PER_SECOND', 100),
    addressRequestsPerSecond: perSecond('PHONE_LIMIT_ADDRESS_REQUESTS_PER_SECOND', 10_000),
    refusalsBeforeGoodbye: read.int('PHONE_LIMIT_REFUSALS_BEFORE_GOODBYE', 50, 1, 1_000_000),
    goodbyeRetryAfterMs: read.int('PHONE_LIMIT_GOODBYE_RETRY_AFTER_MS', 60_000, 1_000, 86_400_000),
    streamsPerNode: read.int('PHONE_LIMIT_STREAMS_PER_NODE', 20_000, 1, 10_000_000),
    streamsPerAddress: read.int('PHONE_LIMIT_STREAMS_PER_ADDRESS', 2_000, 1, 10_000_000),
  };
}

function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A password in a URL copied from an example (`change-me`) would let anyone in. */
function refusePlaceholderPassword(variable: string, url: string): void {
  const password = decodeURIComponent(new URL(url).password);
  if (password !== '' && placeholderProblem(password))
    throw new ConfigError(variable, 'has a placeholder password: set a generated one');
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
