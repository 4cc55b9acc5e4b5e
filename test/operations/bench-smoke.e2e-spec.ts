import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import IORedis from 'ioredis';
import { fileDigests } from '../helpers/file-digests';

const ROOT = join(__dirname, '..', '..');

/** The benchmark runner at a tiny scale, so that it cannot rot; the real runs are not part of the suite. */
describe('npm run bench (smoke)', () => {
  it('runs every scenario end to end, reports its figures and cleans up after itself', async () => {
    // Only what this run creates is checked: another benchmark may be running on the same machine.
    const before = await benchLeftovers();
    const docsBefore = fileDigests(join(ROOT, 'docs'));
    const outDir = mkdtempSync(join(tmpdir(), 'smsfleet-bench-smoke-'));
    const out = join(outDir, 'result.json');
    const run = spawnSync(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register-aliases.js'),
        join(ROOT, 'dist/test/bench/bench.js'),
        'all',
        '--scale',
        '0.002',
        '--duration',
        '1',
        '--out',
        out,
      ],
      // The run, and so the test, may take up to 5 minutes on a loaded 2-core machine.
      { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env } },
    );
    expect(run.stderr).not.toMatch(/bench failed/);
    expect(run.status).toBe(0);
    const text = readFileSync(out, 'utf8');
    rmSync(outDir, { recursive: true, force: true });
    const result = JSON.parse(text) as {
      machine: { cores: number };
      results: Array<{
        scenario: string;
        system: { value: number };
        baseline?: { value: number };
        ratio?: number;
        met: boolean | null;
      }>;
    };
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.results.map((r) => r.scenario)).toEqual([
      'intake-single',
      'intake-bulk',
      'intake-under-attack',
      'dispatch',
      'dispatch-pools',
      'urgent-latency',
      'schedule',
      'status',
      'fleet',
      'dashboard',
      'webhooks',
    ]);
    for (const scenario of result.results) {
      expect(Number.isFinite(scenario.system.value)).toBe(true);
      expect(scenario.met).toBeNull(); // a scaled-down run never claims a target
      if (scenario.baseline) {
        expect(scenario.baseline.value).toBeGreaterThan(0);
        expect(scenario.ratio).toBeCloseTo(scenario.system.value / scenario.baseline.value, 1);
      }
    }
    expect(run.stdout).toMatch(/\[dispatch\] system \d+ msg\/s vs baseline \d+ msg\/s/);
    // Without --record a run changes no tracked file: the docs and their results are as they were.
    expect(fileDigests(join(ROOT, 'docs'))).toEqual(docsBefore);

    // Nothing left behind by this run: no new benchmark database, no new benchmark Redis prefix.
    const after = await benchLeftovers();
    expect(after.databases.filter((name) => !before.databases.includes(name))).toEqual([]);
    expect(after.prefixes.filter((prefix) => !before.prefixes.includes(prefix))).toEqual([]);
  }, 320_000);

  it('refuses to record a scaled-down run in the tracked history, before it starts anything', () => {
    const docsBefore = fileDigests(join(ROOT, 'docs'));
    const run = spawnSync(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register-aliases.js'),
        join(ROOT, 'dist/test/bench/bench.js'),
        '--record',
        'schedule',
        '--scale',
        '0.002',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^--record keeps full-scale runs only/);
    expect(run.stdout).not.toMatch(/=== schedule/);
    expect(fileDigests(join(ROOT, 'docs'))).toEqual(docsBefore);
  });
});

async function benchLeftovers(): Promise<{ databases: string[]; prefixes: string[] }> {
  const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await pg.connect();
  const rows = await pg.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE 'smsfleet_bench_%'`,
  );
  await pg.end();
  const redis = new IORedis('redis://127.0.0.1:6379/0');
  const prefixes = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'smsfleet-bench-*', 'COUNT', 10_000);
    for (const key of keys) prefixes.add(key.split(':')[0]);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
  return { databases: rows.rows.map((row) => row.datname), prefixes: [...prefixes] };
}
