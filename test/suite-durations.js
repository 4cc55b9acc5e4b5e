// Seconds each e2e suite takes, longest first: the order in which `npm test` starts them when jest has no
// cache of its own (a clean clone, as in CI; scripts/longest-first-sequencer.js). Measured one at a time on
// the 2-core machine while other runs loaded it (load 8-15, so longer than quiet), or quiet figures from
// docs/reliability.md where not measured; a suite not listed counts as 20 s. Only the order matters.
// Refresh from a full run's report with scripts/suite-durations.js.
module.exports = {
  'test/pipeline/t0-smoke.e2e-spec.ts': 130,
  'test/faults/fault-f1-api-kill.e2e-spec.ts': 100,
  'test/faults/fault-f6b-redis-flush.e2e-spec.ts': 90,
  'test/security/hostile-input.e2e-spec.ts': 75,
  'test/faults/fault-f8-phones.e2e-spec.ts': 67,
  'test/faults/fault-f7-postgres-restart.e2e-spec.ts': 66,
  'test/faults/dispatch-faults.e2e-spec.ts': 65,
  'test/faults/fault-f6a-redis-kill.e2e-spec.ts': 62,
  'test/operations/soak-smoke.e2e-spec.ts': 58,
  'test/faults/fault-f3-scheduler-kill.e2e-spec.ts': 55,
  'test/phones/hostile-phones.e2e-spec.ts': 45,
  'test/faults/graceful-shutdown.e2e-spec.ts': 43,
  'test/phones/device-access.e2e-spec.ts': 40,
  'test/security/tenant-isolation.e2e-spec.ts': 30,
  'test/security/tenant-under-attack.e2e-spec.ts': 30,
  'test/api/idempotency-key.e2e-spec.ts': 25,
  'test/security/rate-limits.e2e-spec.ts': 25,
  'test/operations/invariant-check.e2e-spec.ts': 20,
  'test/security/request-limits.e2e-spec.ts': 15,
};
