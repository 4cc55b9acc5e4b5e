import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import IORedis from 'ioredis';

const ROOT = join(__dirname, '..');

/** The benchmark runner at a tiny scale, so that it cannot rot; the real runs are not part of the suite. */
describe('npm run bench (smoke)', () => {
  it('runs every scenario end to end, reports its figures and cleans up after itself', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'smsfleet-bench-')), 'result.json');
    const run = spawnSync(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register-aliases.js'),
        join(ROOT, 'dist/tools/bench.js'),
        'all',
        '--scale',
        '0.002',
        '--duration',
        '1',
        '--no-docs',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env } },
    );
    expect(run.stderr).not.toMatch(/bench failed/);
    expect(run.status).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
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
      'dispatch',
      'urgent-latency',
      'schedule',
      'status',
      'fleet',
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

    // Nothing left behind: no benchmark database, no benchmark Redis keys.
    const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await pg.connect();
    const databases = await pg.query(`SELECT datname FROM pg_database WHERE datname LIKE 'smsfleet_bench_%'`);
    await pg.end();
    expect(databases.rows).toEqual([]);
    const redis = new IORedis('redis://127.0.0.1:6379/0');
    const [, keys] = await redis.scan('0', 'MATCH', 'smsfleet-bench-*', 'COUNT', 100_000);
    await redis.quit();
    expect(keys).toEqual([]);
  });
});
