import { join } from 'node:path';
import { describeMachine } from './machine';
import { BenchRun, printTable, recordedResultPath, writeJson } from './report';
import { BenchContext, Scenario, ScenarioResult } from './result';
import { appSettingsFromEnvironment, BENCH_REDIS_URL } from '../harness/bench-system';
import { SCENARIOS } from './scenarios';
import { parseArgs, UsageError } from '../../tools/cli-args';

const ROOT = join(__dirname, '..', '..', '..');

const USAGE = `usage: npm run bench -- <scenario …|all> [--scale X] [--duration S] [--out FILE] [--record]
  scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}
  --scale X      sizes relative to the issue's (default 1; e.g. 0.1 for a quick look)
  --duration S   seconds of load per timed phase (default 10)
  --out FILE     JSON result file (default bench-results/<date>.json, not tracked)
  --record       also keep the result in docs/results/bench/, the tracked history (full scale only)`;

/** Options without a value. `--no-docs` changes nothing (no run edits the docs) but older command lines pass it. */
const FLAGS = ['--record', '--no-docs'];

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { options } = parseArgs(argv);
  const names = argv.filter(
    (arg, i) =>
      !arg.startsWith('--') &&
      !(i > 0 && argv[i - 1].startsWith('--') && !argv[i - 1].includes('=') && !FLAGS.includes(argv[i - 1])),
  );
  if (names.length === 0) throw new UsageError('name a scenario, or all');
  const chosen: Scenario[] = names.includes('all')
    ? SCENARIOS
    : names.map((name) => {
        const scenario = SCENARIOS.find((s) => s.name === name);
        if (!scenario) throw new UsageError(`unknown scenario "${name}"`);
        return scenario;
      });
  const context: BenchContext = {
    scale: Number(options.get('scale') ?? 1),
    durationSec: Number(options.get('duration') ?? 10),
  };
  if (!(context.scale > 0 && context.scale <= 10))
    throw new UsageError('--scale must be above 0 and at most 10');
  if (!(context.durationSec >= 1 && context.durationSec <= 600))
    throw new UsageError('--duration must be 1–600 seconds');
  const record = options.has('record');
  if (record && context.scale < 1)
    throw new UsageError('--record keeps full-scale runs only (--scale 1 or more)');

  const machine = await describeMachine(
    process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    BENCH_REDIS_URL,
  );
  const results: ScenarioResult[] = [];
  for (const scenario of chosen) {
    console.log(`\n=== ${scenario.name}: ${scenario.description}`);
    results.push(await scenario.run(context));
  }
  const date = new Date().toISOString();
  const run: BenchRun = {
    date,
    command: [
      ...Object.entries(appSettingsFromEnvironment()).map(([name, value]) => `${name}=${value}`),
      `npm run bench -- ${argv.join(' ')}`,
    ].join(' '),
    scale: context.scale,
    durationSec: context.durationSec,
    machine,
    results,
  };
  printTable(run);
  const out = options.get('out') ?? join(ROOT, 'bench-results', `${date.replace(/[:.]/g, '-')}.json`);
  writeJson(out, run);
  console.log(`results: ${out}`);
  if (record) {
    const recorded = recordedResultPath(ROOT, 'bench', date);
    writeJson(recorded, run);
    console.log(`recorded: ${recorded}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(
      error instanceof UsageError
        ? `${error.message}\n${USAGE}`
        : `bench failed: ${(error as Error).stack ?? String(error)}`,
    );
    process.exit(1);
  },
);
