import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

/** Markdown of one run, to go at the top of docs/benchmarks.md (newest first). */
export function toMarkdown(run: BenchRun): string {
  const m = run.machine;
  const lines = [
    `## ${run.date} — \`${run.command}\``,
    '',
    `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB; Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}; ` +
      Object.entries(m.packages)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ') +
      `. Scale ${run.scale}, ${run.durationSec} s of load per timed phase.`,
    '',
  ];
  for (const r of run.results) {
    lines.push(`### ${r.scenario} — ${r.description}`, '', '| figure | value |', '|---|---|');
    if (r.baseline) lines.push(`| baseline: ${r.baseline.label} | ${r.baseline.value} ${r.baseline.unit} |`);
    lines.push(`| system: ${r.system.label} | ${r.system.value} ${r.system.unit} |`);
    if (r.ratio !== undefined) lines.push(`| ratio | ${r.ratio} |`);
    for (const [key, value] of Object.entries(r.details)) lines.push(`| ${key} | ${value} |`);
    lines.push(`| target | ${r.target} — **${verdict(r.met)}** |`, '');
  }
  return lines.join('\n');
}

const MARKER = '<!-- runs: newest first; npm run bench inserts below this line -->';

export function recordInDocs(path: string, run: BenchRun): void {
  insertNewestFirst(path, MARKER, toMarkdown(run), '# Benchmarks');
}

/** Inserts a run's section right below `marker` (added at the end if missing), so the newest comes first. */
export function insertNewestFirst(path: string, marker: string, markdown: string, title: string): void {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : `${title}\n\n${marker}\n`;
  const [head, tail] = existing.includes(marker) ? existing.split(marker) : [existing + '\n', ''];
  writeFileSync(path, `${head}${marker}\n\n${markdown}\n${tail.replace(/^\n+/, '\n')}`);
}
