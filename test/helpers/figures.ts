/** Percentile (nearest rank) of a list of numbers; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Prints one figure line a report can quote (`[figure] name: {...}`). */
export function reportFigure(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[figure] ${name}: ${JSON.stringify(figures)}\n`);
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, the API's `timetosend` format for an account in UTC. */
export function clientTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
}
