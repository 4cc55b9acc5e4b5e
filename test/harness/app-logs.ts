import { rmSync } from 'node:fs';

/**
 * Removes a run's app logs when it ends, unless `keep` (a failed soak keeps its own) or SMSFLEET_KEEP_LOGS
 * asks to keep them for a look afterwards. Tests and benchmarks follow the same rule.
 */
export function removeAppLogs(logDir: string, keep = false): void {
  if (!keep && !process.env.SMSFLEET_KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
}
