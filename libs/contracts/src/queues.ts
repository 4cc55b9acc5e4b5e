/** Every queue smsfleet produces to, named once. BullMQ forbids ':' in queue names. */
export const DeviceQueue = {
  name: (deviceId: number): string => `device-${deviceId}`,
  /** Job ids may not be plain integers in BullMQ. */
  jobId: (messageId: number): string => `m${messageId}`,
  messageIdOf: (jobId: string): number => Number(jobId.slice(1)),
} as const;

/** BullMQ priorities: lower runs first; every job gets one, or unprioritised jobs would jump the line. */
export const JobPriority = { urgent: 1, normal: 2 } as const;

/** Redis pub/sub channel on which producers tell dispatchers that a device has new work. */
export const workSignalChannel = (prefix: string): string => `${prefix}:work-signal`;

/** Redis pub/sub channel on which the api tells dispatchers that a device's settings changed. */
export const deviceSettingsChannel = (prefix: string): string => `${prefix}:device-settings`;

/**
 * Redis pub/sub channel on which the api (or the CLI) tells dispatchers that a device's secret was rotated
 * or the device removed: its connected phone is cut off at once (the next handshake fails anyway).
 */
export const deviceRevokedChannel = (prefix: string): string => `${prefix}:device-revoked`;

/** The message on deviceRevokedChannel. */
export interface DeviceRevoked {
  deviceId: number;
  userId: number;
  reason: 'secret-rotated' | 'removed';
}

/**
 * Redis pub/sub channel on which the process that rotated an account's API token (an API replica, the CLI)
 * tells the API replicas, so none of them keeps accepting the old token from its cache.
 */
export const tokenRevokedChannel = (prefix: string): string => `${prefix}:token-revoked`;

/** The message on tokenRevokedChannel. */
export interface TokenRevoked {
  userId: number;
}

/** Redis pub/sub channel on which a dispatcher node announces that it now owns a device's queue. */
export const deviceLeaseChannel = (prefix: string): string => `${prefix}:device-lease`;

/** Redis key holding which node (and which connection) consumes a device's queue. */
export const deviceLeaseKey = (prefix: string, deviceId: number): string => `${prefix}:lease:${deviceId}`;

/**
 * Redis key holding the Redis run_id at the scheduler's last queue rebuild: missing or different means
 * Redis restarted or lost our keys since (RedisLossReconcileService).
 */
export const redisEpochKey = (prefix: string): string => `${prefix}:redis-epoch`;

/**
 * Redis key holding a PostgreSQL timestamp (epoch ms) the scheduler writes every few seconds while Redis is
 * intact. A dataset that holds it holds every job added before it was written: after a restart from the
 * AOF (or an older file) only messages queued since need checking (RedisLossReconcileService).
 */
export const redisSeenKey = (prefix: string): string => `${prefix}:redis-seen`;

/** The run_id in a Redis `INFO server` answer: it changes with every restart of the server. */
export function redisRunIdOf(infoServer: string): string | undefined {
  return /^run_id:(\S+)/m.exec(infoServer)?.[1];
}

/**
 * Redis pub/sub channel on which a dispatcher node passes a pulling phone's state reports (its acks) to
 * the node that serves the phone's session, when the report reached another node.
 */
export const deviceAcksChannel = (prefix: string): string => `${prefix}:device-acks`;

/**
 * Redis pub/sub channel on which a pool's members or a member's rules changed (pool routes, device settings,
 * device removal): routers drop their cached members at once (ADR 2221 §3).
 */
export const poolChangedChannel = (prefix: string): string => `${prefix}:pool-changed`;

/**
 * Redis hash of the pool mover's moves in progress: message id → `<old device>:<epoch ms>`, written with the
 * removal of the job from the old queue, deleted after its add to the new one (ADR 2221 §4).
 */
export const poolMovingKey = (prefix: string): string => `${prefix}:pool-moving`;
