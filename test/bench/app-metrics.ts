import { round } from './stats';

/**
 * An app's event-loop delay since the previous scrape (prom-client resets its monitor on every scrape, so
 * scrape once before a phase and read the figures of the scrape after it) and its GC time so far.
 */
export async function processFigures(appUrl: string) {
  const text = await (await fetch(`${appUrl}/metrics`)).text();
  const sample = (pattern: RegExp) =>
    [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0) * 1000;
  return {
    loopP99Ms: round(sample(/^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)$/gm)),
    loopMaxMs: round(sample(/^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/gm)),
    gcMs: sample(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm),
    majorGcMs: sample(/^nodejs_gc_duration_seconds_sum\{kind="major"[^}]*\} (\S+)$/gm),
  };
}
