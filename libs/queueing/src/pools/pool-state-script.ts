import { TOMBSTONE_FIELD } from '../waiting-job-remover';

/**
 * The live state of a pool's members in one round trip (ADR 2221 §3), and for rows the outbox sweep
 * routes again, what stands in the way of a move (§5).
 *
 * KEYS, per member: presence, last-seen, wait, prioritized, active, delayed, then its quota counters;
 * then per row: the message's job hash in the queue of the device its row names.
 * ARGV: 1 members, 2 rows, 3 the queues' key prefix ("<prefix>:device-"), 4 the pool-moving hash,
 * then the quota counter count of each member, then each row's message id.
 * Answers, per member: online (0/1), last seen (nil or epoch ms), load, each quota counter (nil or count);
 * per row: its job at its device (0 none, 1 a job, 2 a tombstone), and a device whose queue holds a
 * tombstone of the message (a move in progress left it: an add there would be swallowed), else nil.
 */
export const POOL_STATE_SCRIPT = `
local members = tonumber(ARGV[1])
local rows = tonumber(ARGV[2])
local out = {}
local k = 1
for i = 1, members do
  local quotas = tonumber(ARGV[4 + i])
  out[#out + 1] = redis.call('EXISTS', KEYS[k])
  out[#out + 1] = redis.call('GET', KEYS[k + 1])
  out[#out + 1] = redis.call('LLEN', KEYS[k + 2]) + redis.call('ZCARD', KEYS[k + 3])
    + redis.call('LLEN', KEYS[k + 4]) + redis.call('ZCARD', KEYS[k + 5])
  k = k + 6
  for q = 1, quotas do
    out[#out + 1] = redis.call('GET', KEYS[k])
    k = k + 1
  end
end
for r = 1, rows do
  local id = ARGV[4 + members + r]
  local job = 0
  if redis.call('EXISTS', KEYS[k]) == 1 then
    if redis.call('HEXISTS', KEYS[k], '${TOMBSTONE_FIELD}') == 1 then job = 2 else job = 1 end
  end
  out[#out + 1] = job
  local moving = redis.call('HGET', ARGV[4], id)
  local blocked = false
  if moving then
    local old = string.match(moving, '^(%d+)')
    if old and redis.call('EXISTS', ARGV[3] .. old .. ':m' .. id) == 1 then blocked = old end
  end
  out[#out + 1] = blocked
  k = k + 1
end
return out`;
