import { Injectable } from '@nestjs/common';
import { DeviceQueue, poolMovingKey } from '@smsfleet/contracts';
import { DEVICE_QUEUE_EVENTS_MAX_LEN, DeviceQueues } from './device-queues';
import { EMITTED_BY_FIELD } from './emission-mark';
import { RedisConnections } from './redis-connections';

/**
 * Where a message's job was when `removeIfWaiting` ran:
 * - `removed`: it was waiting (wait list, prioritized or delayed zset, paused list) and is gone: no
 *   dispatcher can fetch it any more;
 * - `held`: it exists but is not waiting: active (a dispatcher handed it to a phone), or finished
 *   (completed or failed, its report on its way to PostgreSQL): a phone took it, it stays; so is a pool
 *   job ever emitted to a phone (`em`, ADR 2221 §6) even back in wait: that phone may have it;
 * - `absent`: no job (never added, added and finished long ago, or Redis lost it): PostgreSQL decides.
 */
export type WaitingJobRemoval = 'removed' | 'held' | 'absent';

/** Field of a tombstone hash: a job key that only exists to make a late add of the same job id a no-op. */
export const TOMBSTONE_FIELD = 'smsfleetTombstone';

/**
 * The first step of both scripts below: a job with `em` is `held`; otherwise the job leaves whichever
 * waiting place holds it (its hash and logs deleted, BullMQ's `removed` event written) and `from` names
 * that place, or stays nil when it waits nowhere. KEYS 1-6 and ARGV 1 and 3 as both scripts take them.
 */
const TAKE_IF_WAITING_AND_NEVER_EMITTED = `
local id = ARGV[1]
if redis.call("HEXISTS", KEYS[5], "${EMITTED_BY_FIELD}") == 1 then return "held" end
local from = nil
if redis.call("ZREM", KEYS[3], id) == 1 then from = "prioritized"
elseif redis.call("ZREM", KEYS[4], id) == 1 then from = "delayed"
elseif redis.call("LREM", KEYS[1], 1, id) == 1 then from = "wait"
elseif redis.call("LREM", KEYS[2], 1, id) == 1 then from = "paused"
end
if from then
  redis.call("DEL", KEYS[5], KEYS[5] .. ":logs")
  redis.call("XADD", KEYS[6], "MAXLEN", "~", ARGV[3], "*", "event", "removed", "jobId", id, "prev", from)
end
`;

/**
 * One atomic step against BullMQ 6's key layout (its removeJob-2.lua removes from any state, completed and
 * active-but-unlocked included, which is exactly what must not happen here; ADR 2211). Redis runs a script
 * alone, so the dispatcher's fetch (moveToActive: wait/prioritized → active, delayed promoted first) either
 * ran before it (the job is active: `held`) or runs after it (nothing to fetch).
 *
 * KEYS: 1 wait, 2 paused, 3 prioritized, 4 delayed, 5 the job's hash, 6 events stream.
 * ARGV: 1 job id, 2 tombstone ms (0: none), 3 events kept.
 *
 * A job with `em` (a pool job some phone was emitted, ADR 2221 §6) is `held` wherever it is, as for the
 * mover: removing it would drop the mark, and a reschedule's re-add (or the sweep's, beyond the horizon,
 * which may route it to another phone) would bring back a job the mover may move while a phone holds it.
 *
 * With a tombstone, the job's key is left behind as a small hash that expires: BullMQ's add of an
 * existing job id is a no-op, so an add still in flight (the API enqueues after its commit) cannot bring
 * the job back after it was removed. The tombstone is in no list, so no worker ever sees it.
 */
const REMOVE_IF_WAITING = `${TAKE_IF_WAITING_AND_NEVER_EMITTED}
local tombstoneMs = tonumber(ARGV[2])
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
  tombstone()
  return "removed"
end
if redis.call("EXISTS", KEYS[5]) == 0 or redis.call("HEXISTS", KEYS[5], "${TOMBSTONE_FIELD}") == 1 then
  tombstone()
  return "absent"
end
return "held"
`;

/**
 * The pool mover's variant (ADR 2221 §4): a job some phone was ever emitted (`em` in its hash, §6) is
 * `held` wherever it is, even back in wait: that phone may have sent it, and its resend goes to it alone.
 * For `removed` and `absent` it always leaves a tombstone, and records the move as begun in the
 * pool-moving hash, in the same script: a mover that dies before its PostgreSQL commit leaves a row that
 * names the old device with no job anywhere, and that entry is how it is found again.
 *
 * KEYS: 1 wait, 2 paused, 3 prioritized, 4 delayed, 5 the job's hash, 6 events stream, 7 pool-moving hash.
 * ARGV: 1 job id, 2 tombstone ms, 3 events kept, 4 message id, 5 "<old device>:<epoch ms>".
 */
const MOVE_IF_NEVER_EMITTED = `${TAKE_IF_WAITING_AND_NEVER_EMITTED}
local answer = "absent"
if from then
  answer = "removed"
elseif redis.call("EXISTS", KEYS[5]) == 1 and redis.call("HEXISTS", KEYS[5], "${TOMBSTONE_FIELD}") == 0 then
  return "held"
end
redis.call("HSET", KEYS[5], "${TOMBSTONE_FIELD}", "1")
redis.call("PEXPIRE", KEYS[5], ARGV[2])
redis.call("HSET", KEYS[7], ARGV[4], ARGV[5])
return answer
`;

/** How long a tombstone blocks a late add: as long as a finished job is kept for the same reason (ADR 0408). */
export const JOB_TOMBSTONE_MS = 60_000;

/**
 * Removes a message's job only while no dispatcher has fetched it (cancel and reschedule, ADR 2211), or,
 * for the pool mover, only while no phone was ever sent it (ADR 2221).
 */
@Injectable()
export class WaitingJobRemover {
  constructor(
    private readonly redis: RedisConnections,
    private readonly queues: DeviceQueues,
  ) {}

  /**
   * The pool mover's step (ADR 2221 §4): removes the job only if it waits and was never emitted to a
   * phone, tombstones it, and records the move as begun (`pool-moving`) unless the answer is `held`.
   */
  async removeToMove(deviceId: number, messageId: number, now = Date.now()): Promise<WaitingJobRemoval> {
    const queue = this.queues.queue(deviceId);
    const jobId = DeviceQueue.jobId(messageId);
    const result = await this.redis.shared.eval(
      MOVE_IF_NEVER_EMITTED,
      7,
      ...waitingJobKeys(queue, jobId),
      poolMovingKey(this.queues.redisPrefix),
      jobId,
      JOB_TOMBSTONE_MS,
      DEVICE_QUEUE_EVENTS_MAX_LEN,
      messageId,
      `${deviceId}:${now}`,
    );
    return result as WaitingJobRemoval;
  }

  async removeIfWaiting(deviceId: number, messageId: number, tombstoneMs = 0): Promise<WaitingJobRemoval> {
    const queue = this.queues.queue(deviceId);
    const jobId = DeviceQueue.jobId(messageId);
    const result = await this.redis.shared.eval(
      REMOVE_IF_WAITING,
      6,
      ...waitingJobKeys(queue, jobId),
      jobId,
      Math.max(0, Math.round(tombstoneMs)),
      DEVICE_QUEUE_EVENTS_MAX_LEN,
    );
    return result as WaitingJobRemoval;
  }
}

/** The keys both scripts take first, in their order: where a waiting job can be, its hash, the events stream. */
function waitingJobKeys(queue: { toKey(type: string): string }, jobId: string): string[] {
  return ['wait', 'paused', 'prioritized', 'delayed', jobId, 'events'].map((type) => queue.toKey(type));
}
