// The e2e suites that `npm test` (scripts/run-tests.js) runs one at a time, after all the others have run two
// at a time: each measures latency, throughput or recovery time, or bounds a duration within a few times of
// what it takes on a quiet machine, so a second suite on the same two cores would make it fail or its
// reported figures wrong. Every other suite mostly waits (timers, schedules, phones) and shares the machine.
// A suite whose only time bounds are hang-catchers (many times its quiet figure) or lower bounds stays out.
// A new suite that asserts such a duration goes here, with one line saying why (test/README.md).
module.exports = {
  'test/api/bulk-sms.e2e-spec.ts':
    '10,000 items answered within 6 s (1.0-1.4 s quiet): 6.2-16.6 s beside another suite at load 20',
  'test/security/hostile-input.e2e-spec.ts':
    'CPU-bound fuzzing against a 300 s test timeout (75 s alone): beside another suite at load 23 it ran out',
  'test/security/tenant-under-attack.e2e-spec.ts':
    "bounds the victim's p95 during each attack by its quiet p95",
  'test/phones/hostile-phones.e2e-spec.ts': "bounds the other tenant's p95 during the hostile phones",
  'test/security/request-limits.e2e-spec.ts': 'slow clients must be cut within the 2 s request timeout',
  'test/security/rate-limits.e2e-spec.ts':
    'per-second limits, and a listing cancelled within its statement timeout',
  'test/pipeline/dispatch-schedule.e2e-spec.ts': 'scheduled messages leave within 1 s of their time',
  'test/pipeline/dispatch-device-rules.e2e-spec.ts':
    'a changed setting applies within 2 s; send pacing by the clock',
  'test/api/cancel-reschedule.e2e-spec.ts':
    'rescheduled messages reach the phone within 1.5 s of their new time, set 3-9 s ahead',
  'test/pipeline/dispatch-limits.e2e-spec.ts':
    'random pace gaps bounded by the range; held messages sent promptly when the hours open',
  'test/operations/health-readiness.e2e-spec.ts': 'readiness turns down within 5 s of PostgreSQL going away',
  'test/faults/fault-f1-api-kill.e2e-spec.ts': 'kills the api at a moment found by polling, under load',
  'test/faults/fault-f3-scheduler-kill.e2e-spec.ts':
    'kills the scheduler inside a transaction found by polling',
  'test/faults/fault-sentinel-failover.e2e-spec.ts':
    'a load run across a Sentinel failover with six app processes and five Redis processes (figures)',
  'test/faults/fault-f7-postgres-restart.e2e-spec.ts':
    'PostgreSQL down for 2 s under load: some request must meet the outage, and every answer be 200 or 503',
  'test/faults/fault-f10-redis-maxmemory.e2e-spec.ts': 'Redis full for a fixed 4 s during intake',
  'test/faults/postgres-away.e2e-spec.ts': 'recovery time after PostgreSQL comes back (figure)',
  'test/faults/redis-away.e2e-spec.ts': 'answers within 5 s while Redis is away',
  'test/faults/redis-loss-reconcile.e2e-spec.ts':
    'time to rebuild the queues after Redis restarts empty (figure)',
  'test/phones/pool-failover.e2e-spec.ts':
    "a dropped pool phone's untaken messages must move within the 3 s grace + 4 s (3.3 s quiet)",
  'test/faults/reports-survive-redis-loss.e2e-spec.ts':
    'a 60 s report timeout must not expire during the run',
};
// Reviewed and left out (2026-12-06), though they measure or report figures: their only time bounds are
// hang-catchers or lower bounds, their figures are printed but quoted by no doc, and much of their time
// is waiting. Each passed alone on the 2-core machine at load 8-15 (other runs), harder than beside one
// other suite:
// - test/operations/bench-smoke-*: a scaled-down bench run judges no target (`met` is null; its figures
//   are only checked to be finite), and counts leftovers by its own run tag (test/helpers/bench-smoke.ts);
// - test/operations/soak-smoke: 50 msg/s accepted in full, with retries by the same key; every fault must be
//   repaired and intake, dispatch and delivery seen coming back before the load ends, under generous
//   timeouts; its recovery times are printed, and the docs quote the full soak's, not the smoke's. Its
//   databases are bench ones, which no longer matters to the bench smoke (run tags). 94 s at load 15;
// - test/faults/graceful-shutdown: exits bounded by the 30 s grace period; 0.3 s each at load 11;
// - test/faults/dispatch-faults: recovery waits of 20-90 s against figures of 0.1-0.8 s (3 of 3 at load 9);
// - test/faults/fault-f6a-redis-kill, fault-f6b-redis-flush: what they assert is the state after the fault
//   (503 while Redis is down, the rebuild, the invariants, no reported message ending as 203), with
//   waits of 30-180 s against rebuilds and settling of 1-10 s (passed at load 14 and 8);
// - test/faults/fault-f8-phones: late acks (1.5 s against a 1 s ack timeout) and drops are made by the
//   phones' own timers; a slower machine only adds resends, which the invariants count (149 per mille at
//   load 13).
