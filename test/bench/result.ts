/** One measured figure. */
export interface Figure {
  label: string;
  value: number;
  unit: string;
}

/** What a scenario reports: its baseline (measured in the same run), the system's figure, their ratio, the target. */
export interface ScenarioResult {
  scenario: string;
  description: string;
  baseline?: Figure;
  system: Figure;
  /** system / baseline, when there is a baseline. */
  ratio?: number;
  target: string;
  /** Whether the target was met (null when the run was too small to judge, e.g. a smoke run). */
  met: boolean | null;
  details: Record<string, number | string>;
}

export interface BenchContext {
  /** 1 = the sizes; smaller for quick runs (the smoke test uses ~0.005). */
  scale: number;
  /** Seconds of load for the time-boxed scenarios. */
  durationSec: number;
}

export interface Scenario {
  name: string;
  description: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}

export function scaled(full: number, context: BenchContext, minimum = 1): number {
  return Math.max(minimum, Math.round(full * context.scale));
}
