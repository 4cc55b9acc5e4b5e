// `npm test` after the build: the unit tests and the e2e suites in two jest runs, then one JSON report.
//  1. everything but the timing-sensitive suites, two test files at a time (--maxWorkers=2): an e2e suite
//     mostly waits on timers, schedules and phones, and each one has its own database, Redis prefix, ports
//     and temporary directories (test/harness), so two share the machine without meeting;
//  2. the suites listed in test/timing-sensitive.js, one at a time (--runInBand), as nothing else of this
//     run is left to slow them down.
// Extra jest options are passed to both runs (--selectProjects too: a run without e2e skips step 2).
// `--json` and `--outputFile=F` keep jest's meaning: one report with the totals of both runs, in F or on
// stdout. One suite or folder: `npx jest <path>` (test/README.md); positional filters are refused here.
const { spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const ROOT = join(__dirname, '..');
const JEST = require.resolve('jest/bin/jest');
const TIMING_SENSITIVE = Object.keys(require('../test/timing-sensitive'));
// SMSFLEET_TEST_WORKERS=1 runs every file one at a time, as before (a machine busy with other runs).
const WORKERS = Math.max(1, Number(process.env.SMSFLEET_TEST_WORKERS ?? 2) || 2);

function parseArgs(argv) {
  const passed = [];
  let json = false;
  let outputFile;
  const projects = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg.startsWith('--outputFile=')) outputFile = arg.slice('--outputFile='.length);
    else if (arg === '--outputFile') outputFile = argv[++i];
    else if (!arg.startsWith('-')) {
      throw new Error(`run-tests: no path filters here ("${arg}"); run one suite with npx jest <path>`);
    } else {
      passed.push(arg);
      // Values of --selectProjects follow it until the next option.
      if (arg === '--selectProjects')
        while (argv[i + 1] && !argv[i + 1].startsWith('-'))
          passed.push((projects[projects.length] = argv[++i]));
      else if (arg.startsWith('--selectProjects=')) projects.push(arg.slice('--selectProjects='.length));
    }
  }
  return { passed, json, outputFile, projects };
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One jest run; its JSON report, or undefined when jest wrote none (it failed before running tests). */
function runJest(label, args, report) {
  console.error(`\n=== npm test: ${label} ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [JEST, ...args, '--json', `--outputFile=${report}`], {
    cwd: ROOT,
    stdio: ['inherit', 'ignore', 'inherit'], // jest's stdout is the JSON report, written to the file instead
  });
  console.error(
    `=== npm test: ${label}: exit ${run.status ?? run.signal} after ${Math.round((Date.now() - started) / 1000)} s ===`,
  );
  const json = existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined;
  return { status: run.status ?? 1, json };
}

/** The totals of several jest reports as one, in jest's own --json shape. */
function merge(reports) {
  const merged = { ...reports[0], testResults: [], openHandles: [] };
  for (const key of Object.keys(merged))
    if (key.startsWith('num')) merged[key] = reports.reduce((sum, r) => sum + (r[key] ?? 0), 0);
  merged.startTime = Math.min(...reports.map((r) => r.startTime));
  merged.success = reports.every((r) => r.success);
  merged.wasInterrupted = reports.some((r) => r.wasInterrupted);
  merged.testResults = reports.flatMap((r) => r.testResults ?? []);
  merged.openHandles = reports.flatMap((r) => r.openHandles ?? []);
  const snapshot = { ...reports[0].snapshot };
  for (const [key, value] of Object.entries(snapshot)) {
    if (typeof value === 'number')
      snapshot[key] = reports.reduce((sum, r) => sum + (r.snapshot?.[key] ?? 0), 0);
    else if (typeof value === 'boolean') snapshot[key] = reports.some((r) => r.snapshot?.[key]);
    else if (Array.isArray(value)) snapshot[key] = reports.flatMap((r) => r.snapshot?.[key] ?? []);
  }
  merged.snapshot = snapshot;
  return merged;
}

function main() {
  const { passed, json, outputFile, projects } = parseArgs(process.argv.slice(2));
  const missing = TIMING_SENSITIVE.filter((path) => !existsSync(join(ROOT, path)));
  if (missing.length) throw new Error(`run-tests: test/timing-sensitive.js names missing suites: ${missing}`);
  const dir = mkdtempSync(join(tmpdir(), 'smsfleet-npm-test-'));
  try {
    const runs = [
      runJest(
        `unit tests and e2e suites, ${WORKERS} at a time`,
        [
          WORKERS > 1 ? `--maxWorkers=${WORKERS}` : '--runInBand',
          ...['/node_modules/', ...TIMING_SENSITIVE.map((path) => `/${escapeRegExp(path)}$`)].map(
            (pattern) => `--testPathIgnorePatterns=${pattern}`,
          ),
          ...passed,
        ],
        join(dir, 'concurrent.json'),
      ),
    ];
    if (!projects.length || projects.includes('e2e'))
      runs.push(
        runJest(
          `timing-sensitive e2e suites, one at a time (test/timing-sensitive.js)`,
          ['--runInBand', ...passed, '--selectProjects', 'e2e', '--runTestsByPath', ...TIMING_SENSITIVE],
          join(dir, 'timing-sensitive.json'),
        ),
      );
    const reports = runs.map((run) => run.json).filter(Boolean);
    const status = runs.some((run) => run.status !== 0) || reports.length < runs.length ? 1 : 0;
    if (reports.length) {
      const merged = merge(reports);
      if (outputFile) writeFileSync(resolve(process.cwd(), outputFile), JSON.stringify(merged));
      else if (json) process.stdout.write(`${JSON.stringify(merged)}\n`);
      const seconds = Math.round((Date.now() - merged.startTime) / 1000);
      const suiteSeconds = Math.round(
        merged.testResults.reduce((sum, r) => sum + (r.endTime - r.startTime), 0) / 1000,
      );
      console.error(
        `\n=== npm test: ${merged.numPassedTests} passed, ${merged.numFailedTests} failed, ` +
          `${merged.numTotalTestSuites} suites; ${seconds} s (suites' own durations add up to ${suiteSeconds} s) ===`,
      );
    }
    return status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
