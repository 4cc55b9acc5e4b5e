import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SCENARIOS } from '../bench/scenarios';
import { fileDigests } from '../helpers/file-digests';
import { BENCH_SMOKE_PARTS, runBenchSmoke } from '../helpers/bench-smoke';
import { REPO_ROOT } from '../harness/repo-root';

/** The benchmark runner at a tiny scale, so that it cannot rot; the real runs are not part of the suite. */
describe('npm run bench (smoke): intake scenarios', () => {
  it('the smoke files together run every scenario of `all`, each once', () => {
    const smoked = Object.values(BENCH_SMOKE_PARTS).flat();
    expect([...smoked].sort()).toEqual(SCENARIOS.map((scenario) => scenario.name).sort());
    expect(new Set(smoked).size).toBe(smoked.length);
  });

  it('runs each intake scenario end to end, reports its figures and cleans up after itself', async () => {
    const { stdout } = await runBenchSmoke(BENCH_SMOKE_PARTS.intake);
    expect(stdout).toMatch(/\[intake-bulk\] system \d+ msg\/s vs baseline \d+ msg\/s/);
  }, 260_000);

  it('refuses to record a scaled-down run in the tracked history, before it starts anything', () => {
    const docsBefore = fileDigests(join(REPO_ROOT, 'docs'));
    const run = spawnSync(
      process.execPath,
      [
        '-r',
        join(REPO_ROOT, 'scripts/register-aliases.js'),
        join(REPO_ROOT, 'dist/test/bench/bench.js'),
        '--record',
        'schedule',
        '--scale',
        '0.002',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^--record keeps full-scale runs only/);
    expect(run.stdout).not.toMatch(/=== schedule/);
    expect(fileDigests(join(REPO_ROOT, 'docs'))).toEqual(docsBefore);
  });
});
