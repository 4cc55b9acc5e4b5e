// The e2e suites that `npm test` (scripts/run-tests.js) runs one at a time, after all the others have run two
// at a time: each measures latency, throughput or recovery time, or bounds a duration within a few times of
// what it takes on a quiet machine, so a second suite on the same two cores would make it fail or its
// reported figures wrong. Every other suite mostly waits (timers, schedules, phones) and shares the machine.
// A suite whose only time bounds are hang-catchers (many times its quiet figure) or lower bounds stays out.
// A new suite that asserts such a duration goes here, with one line saying why (test/README.md).
module.exports = {
  'test/operations/bench-smoke.e2e-spec.ts':
    'runs every bench scenario (throughput against baselines) and counts leftover bench databases',
  'test/operations/soak-smoke.e2e-spec.ts':
    'a sustained rate that must be accepted in full, with recovery times per fault; its databases are bench ones',
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
  'test/faults/dispatch-faults.e2e-spec.ts':
    'kill -9 and moves under load (recovery figures); SIGTERM exits within 30 s',
  'test/faults/fault-f1-api-kill.e2e-spec.ts': 'kills the api at a moment found by polling, under load',
  'test/faults/fault-f3-scheduler-kill.e2e-spec.ts':
    'kills the scheduler inside a transaction found by polling',
  'test/faults/fault-f6a-redis-kill.e2e-spec.ts': 'recovery of a load run after Redis is killed (figures)',
  'test/faults/fault-f6b-redis-flush.e2e-spec.ts': 'recovery of a load run after FLUSHALL (figures)',
  'test/faults/fault-f7-postgres-restart.e2e-spec.ts':
    'PostgreSQL down for a few seconds under load (recovery figures)',
  'test/faults/fault-f8-phones.e2e-spec.ts': 'phones acking after the ack timeout, under load (figures)',
  'test/faults/fault-f10-redis-maxmemory.e2e-spec.ts': 'Redis full for a fixed 4 s during intake',
  'test/faults/graceful-shutdown.e2e-spec.ts': 'exit times after SIGTERM (figures), within the grace period',
  'test/faults/postgres-away.e2e-spec.ts': 'recovery time after PostgreSQL comes back (figure)',
  'test/faults/redis-away.e2e-spec.ts': 'answers within 5 s while Redis is away',
  'test/faults/redis-loss-reconcile.e2e-spec.ts':
    'time to rebuild the queues after Redis restarts empty (figure)',
  'test/phones/pool-failover.e2e-spec.ts':
    "a dropped pool phone's untaken messages must move within the 3 s grace + 4 s (3.3 s quiet)",
  'test/faults/reports-survive-redis-loss.e2e-spec.ts':
    'a 60 s report timeout must not expire during the run',
};
