import { BENCH_SMOKE_PARTS, runBenchSmoke } from '../helpers/bench-smoke';

/** The benchmark runner at a tiny scale, so that it cannot rot; the real runs are not part of the suite. */
describe('npm run bench (smoke): delivery scenarios', () => {
  it('runs each delivery scenario end to end, reports its figures and cleans up after itself', async () => {
    const { stdout } = await runBenchSmoke(BENCH_SMOKE_PARTS.delivery);
    expect(stdout).toMatch(/\[dispatch\] system \d+ msg\/s vs baseline \d+ msg\/s/);
  }, 260_000);
});
