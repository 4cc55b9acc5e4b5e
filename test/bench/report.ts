import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MachineInfo } from './machine';
import { ScenarioResult } from './result';

export interface BenchRun {
  date: string;
  command: string;
  scale: number;
  durationSec: number;
  machine: MachineInfo;
  results: ScenarioResult[];
}

const verdict = (met: boolean | null) =>
  met === null ? 'not judged (scaled-down run)' : met ? 'met' : 'MISSED';

export function printTable(run: BenchRun): void {
  console.log('');
  console.table(
    run.results.map((r) => ({
      scenario: r.scenario,
      baseline: r.baseline ? `${r.baseline.value} ${r.baseline.unit}` : '—',
      system: `${r.system.value} ${r.system.unit}`,
      ratio: r.ratio ?? '—',
      target: r.target,
      result: verdict(r.met),
    })),
  );
}

export function writeJson(path: string, run: BenchRun): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(run, null, 2));
}

/**
 * The tracked history of measured runs. A run goes there only when asked (`--record`): the docs state the
 * current figures, and an ordinary run must not change tracked files.
 */
export function recordedResultPath(root: string, kind: 'bench' | 'soak', date: string): string {
  return join(root, 'docs', 'results', kind, `${date.replace(/[:.]/g, '-')}.json`);
}
