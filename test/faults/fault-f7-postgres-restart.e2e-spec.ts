import { PostgresCluster } from '../harness/postgres-cluster';
import { reportFigure } from '../helpers/figures';
import { FAULT_RUN_MIX, LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DOWN_MS = 2_000;

/**
 * F7 (docs/reliability.md), the real thing: a private PostgreSQL is stopped with `-m immediate` (every
 * backend dropped, no checkpoint; recovery replays the WAL) during intake and dispatch, and started again
 * after a few seconds. Every answer is 200 or 503 — never a 2xx without a commit (L1 over the client ledger)
 * — status reports queued meanwhile land afterwards, and every invariant holds once settled.
 */
describe('F7: PostgreSQL stopped -m immediate and started again mid-run', () => {
  let cluster: PostgresCluster;
  let run: LoadRun;

  beforeAll(async () => {
    cluster = await PostgresCluster.start();
    run = await LoadRun.start({ infrastructure: { databaseServerUrl: cluster.url } });
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
    await cluster?.stop();
  });

  it('answers only 200 or 503 meanwhile, commits whatever it answered 2xx, and settles whole', async () => {
    const started = Date.now();
    const driving = run.drive(run.mix({ keyPrefix: 'f7', ...FAULT_RUN_MIX }), 4);
    await waitFor('a third of the requests answered', () => run.count(200) > 180, 60_000);
    // restartImmediate() with a window: stop and start are separate so that clients meet the outage.
    cluster.stopImmediate();
    const stoppedAt = Date.now();
    await sleep(DOWN_MS);
    cluster.startAgain();
    const restartedAt = Date.now();
    const answered = await driving;

    expect(run.count(503)).toBeGreaterThan(0);
    expect([...run.statuses.keys()].filter((status) => status !== 200 && status !== 503)).toEqual([]);
    const invariants = await run.verify(answered);
    reportFigure('fault-f7', {
      ...run.figures(invariants),
      downMs: restartedAt - stoppedAt,
      lastFailureAfterRestartMs: Math.max(0, run.lastFailureAt - restartedAt),
      runMs: Date.now() - started,
    });
  }, 300_000);
});
