import { Injectable } from '@nestjs/common';
import { DeviceQueue } from '@smsfleet/contracts';
import { DEVICE_QUEUE_EVENTS_MAX_LEN, DeviceQueues } from './device-queues';
import { RedisConnections } from './redis-connections';

/**
 * Where a message's job was when `removeIfWaiting` ran:
 * - `removed`: it was waiting (wait list, prioritized or delayed zset, paused list) and is gone: no
 *   dispatcher can fetch it any more;
 * - `held`: it exists but is not waiting: active (a dispatcher handed it to a phone), or finished
 *   (completed or failed, its report on its way to PostgreSQL): a phone took it, it stays;
 * - `absent`: no job (never added, added and finished long ago, or Redis lost it): PostgreSQL decides.
 */
export type WaitingJobRemoval = 'removed' | 'held' | 'absent';

/** Field of a tombstone hash: a job key that only exists to make a late add of the same job id a no-op. */
export const TOMBSTONE_FIELD = 'smsfleetTombstone';

/**
 * One atomic step against BullMQ 6's key layout (its removeJob-2.lua removes from any state, completed and
 * active-but-unlocked included, which is exactly what must not happen here; ADR 2211). Redis runs a script
 * alone, so the dispatcher's fetch (moveToActive: wait/prioritized → active, delayed promoted first) either
 * ran before it (the job is active: `held`) or runs after it (nothing to fetch).
 *
 * KEYS: 1 wait, 2 paused, 3 prioritized, 4 delayed, 5 the job's hash, 6 events stream.
 * ARGV: 1 job id, 2 tombstone ms (0: none), 3 events kept.
 *
 * With a tombstone, the job's key is left behind as a small hash that expires: BullMQ's add of an
 * existing job id is a no-op, so an add still in flight (the API enqueues after its commit) cannot bring
 * the job back after it was removed. The tombstone is in no list, so no worker ever sees it.
 */
const REMOVE_IF_WAITING = `
local id = ARGV[1]
local tombstoneMs = tonumber(ARGV[2])
local from = nil
if redis.call("ZREM", KEYS[3], id) == 1 then from = "prioritized"
elseif redis.call("ZREM", KEYS[4], id) == 1 then from = "delayed"
elseif redis.call("LREM", KEYS[1], 1, id) == 1 then from = "wait"
elseif redis.call("LREM", KEYS[2], 1, id) == 1 then from = "paused"
end
local function tombstone()
  if tombstoneMs > 0 then
    redis.call("HSET", KEYS[5], "${TOMBSTONE_FIELD}", "1")
    redis.call("PEXPIRE", KEYS[5], tombstoneMs)
  else
    -- No tombstone wanted (the caller adds the job again): an earlier one must not swallow that add.
    redis.call("DEL", KEYS[5])
  end
end
if from then
  redis.call("DEL", KEYS[5], KEYS[5] .. ":logs")
  redis.call("XADD", KEYS[6], "MAXLEN", "~", ARGV[3], "*", "event", "removed", "jobId", id, "prev", from)
  tombstone()
  return "removed"
end
if redis.call("EXISTS", KEYS[5]) == 0 or redis.call("HEXISTS", KEYS[5], "${TOMBSTONE_FIELD}") == 1 then
  tombstone()
  return "absent"
end
return "held"
`;

/** How long a tombstone blocks a late add: as long as a finished job is kept for the same reason (ADR 0408). */
export const JOB_TOMBSTONE_MS = 60_000;

/** Removes a message's job only while no dispatcher has fetched it (cancel and reschedule, ADR 2211). */
@Injectable()
export class WaitingJobRemover {
  constructor(
    private readonly redis: RedisConnections,
    private readonly queues: DeviceQueues,
  ) {}

  async removeIfWaiting(deviceId: number, messageId: number, tombstoneMs = 0): Promise<WaitingJobRemoval> {
    const queue = this.queues.queue(deviceId);
    const jobId = DeviceQueue.jobId(messageId);
    const result = await this.redis.shared.eval(
      REMOVE_IF_WAITING,
      6,
      queue.toKey('wait'),
      queue.toKey('paused'),
      queue.toKey('prioritized'),
      queue.toKey('delayed'),
      queue.toKey(jobId),
      queue.toKey('events'),
      jobId,
      Math.max(0, Math.round(tombstoneMs)),
      DEVICE_QUEUE_EVENTS_MAX_LEN,
    );
    return result as WaitingJobRemoval;
  }
}
