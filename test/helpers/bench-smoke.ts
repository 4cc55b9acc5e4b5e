import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import IORedis from 'ioredis';
import { fileDigests } from './file-digests';
import { REPO_ROOT } from '../harness/repo-root';

/**
 * The bench scenarios of each smoke file (test/operations/bench-smoke-*): three files of about 35 s each
 * on a quiet machine, so that `npm test` runs them beside other suites instead of one 2-minute file.
 * test/operations/bench-smoke-intake checks that together they are every scenario of `all`.
 */
export const BENCH_SMOKE_PARTS = {
  intake: ['intake-single', 'intake-bulk', 'intake-under-attack', 'status'],
  delivery: ['dispatch', 'dispatch-pools', 'urgent-latency', 'schedule'],
  views: ['fleet', 'dashboard', 'webhooks'],
} as const;

interface ScenarioFigures {
  scenario: string;
  system: { value: number };
  baseline?: { value: number };
  ratio?: number;
  met: boolean | null;
}

/**
 * Runs `npm run bench` over `scenarios` at a tiny scale, so that they cannot rot, and checks that each
 * reports its figures and that the run leaves no database or Redis key behind. The run's systems carry a
 * tag of their own (SMSFLEET_RUN_TAG, test/harness/real-system.ts): another bench or soak run on the same
 * machine, such as the other smoke files, is never mistaken for this one's leftovers.
 */
export async function runBenchSmoke(scenarios: readonly string[]): Promise<{ stdout: string }> {
  const tag = `smoke${randomBytes(3).toString('hex')}`;
  const docsBefore = fileDigests(join(REPO_ROOT, 'docs'));
  const outDir = mkdtempSync(join(tmpdir(), 'smsfleet-bench-smoke-'));
  const out = join(outDir, 'result.json');
  const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await pg.connect();
  try {
    const tagged = async () =>
      (
        await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE $1`, [
          `smsfleet_bench_${tag}%`,
        ])
      ).rows[0].n;
    // The databases of this run, watched while it runs: the leftover check below would pass on nothing if
    // the run's systems did not carry the tag.
    let seen = 0;
    const watch = setInterval(() => {
      tagged().then(
        (n) => (seen = Math.max(seen, n)),
        () => undefined,
      );
    }, 250);
    const run = await runBench([...scenarios, '--scale', '0.002', '--duration', '1', '--out', out], {
      ...process.env,
      SMSFLEET_RUN_TAG: tag,
    }).finally(() => clearInterval(watch));
    expect(seen).toBeGreaterThan(0);
    expect(run.stderr).not.toMatch(/bench failed/);
    expect(run.status).toBe(0);
    const text = readFileSync(out, 'utf8');
    const result = JSON.parse(text) as { machine: { cores: number }; results: ScenarioFigures[] };
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.results.map((r) => r.scenario)).toEqual(scenarios);
    for (const scenario of result.results) {
      expect(Number.isFinite(scenario.system.value)).toBe(true);
      expect(scenario.met).toBeNull(); // a scaled-down run never claims a target
      if (scenario.baseline) {
        expect(scenario.baseline.value).toBeGreaterThan(0);
        expect(scenario.ratio).toBeCloseTo(scenario.system.value / scenario.baseline.value, 1);
      }
    }
    // Without --record a run changes no tracked file: the docs and their results are as they were.
    expect(fileDigests(join(REPO_ROOT, 'docs'))).toEqual(docsBefore);
    // Nothing left behind by this run: no benchmark database, no benchmark Redis key of its systems.
    expect(await tagged()).toBe(0);
    expect(await redisLeftovers(tag)).toEqual([]);
    return { stdout: run.stdout };
  } finally {
    await pg.end();
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench` with these arguments, without blocking the event loop (the databases are watched
 * meanwhile). About 35 s on a quiet machine; beside another suite on a loaded 2-core machine, a few times
 * that: killed after 4 minutes.
 */
function runBench(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(REPO_ROOT, 'scripts/register-aliases.js'),
      join(REPO_ROOT, 'dist/test/bench/bench.js'),
      ...args,
    ],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function redisLeftovers(tag: string): Promise<string[]> {
  const redis = new IORedis('redis://127.0.0.1:6379/0');
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `smsfleet-bench-${tag}*`, 'COUNT', 10_000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
  return keys;
}
