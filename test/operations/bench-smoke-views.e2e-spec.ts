import { BENCH_SMOKE_PARTS, runBenchSmoke } from '../helpers/bench-smoke';

/** The benchmark runner at a tiny scale, so that it cannot rot; the real runs are not part of the suite. */
describe('npm run bench (smoke): fleet, dashboard and webhooks scenarios', () => {
  it('runs each of these scenarios end to end, reports its figures and cleans up after itself', async () => {
    const { stdout } = await runBenchSmoke(BENCH_SMOKE_PARTS.views);
    expect(stdout).toMatch(/\[webhooks\] system [\d.]+ events\/s vs baseline [\d.]+ events\/s/);
  }, 260_000);
});
