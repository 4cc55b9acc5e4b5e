import { RedisServer } from '../harness/redis-server';
import { reportFigure } from '../helpers/figures';
import { FAULT_RUN_MIX, LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

/**
 * Issue 18 (ADR 1801): a status report acknowledged to a phone is in PostgreSQL before the ack, so losing
 * everything in Redis right after loses none. Socket phones (half following protocol v1 as it stood,
 * half re-sending their latest report when a message comes again) and SMSGate app phones report while
 * a ≈2,000-message run goes on; once hundreds of reports are acknowledged, the run's own Redis is
 * flushed (FLUSHDB) and an operator runs `cli reconcile`. Every acknowledged report ends in PostgreSQL
 * (L9 over the phones' ledgers), no reported message ends as 203, and every invariant holds.
 */
describe('acknowledged reports survive the loss of Redis', () => {
  let redis: RedisServer;
  let run: LoadRun;

  beforeAll(async () => {
    redis = await RedisServer.start();
    run = await LoadRun.start({
      infrastructure: { redisUrl: redis.url },
      // The shortest report timeout: a report lost anyway would show as 203 within the run.
      env: { MESSAGE_REPORT_TIMEOUT_SECONDS: '60', LOG_LEVEL: 'warn' },
      appsPerTenant: 2,
      behaviour: { sendDelayMs: 10, deliveryDelayMs: 200, failureShare: 0.02 },
    });
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
    await redis?.stop();
  });

  it('keeps every acknowledged report through FLUSHDB and reconcile', async () => {
    for (const fleet of run.fleets)
      fleet.phones.forEach((phone, index) => (phone.resendOnRepeat = index % 2 === 0));
    const ledgers = [...run.fleets, ...run.appFleets].map((fleet) => fleet.ledger);
    const ackedPairs = () =>
      ledgers.flatMap((ledger) =>
        [...ledger.acknowledged].flatMap(([id, statuses]) => [...statuses].map((status) => [id, status])),
      );
    const driving = run.drive(run.mix({ keyPrefix: 'r18', ...FAULT_RUN_MIX }), 4);
    await waitFor('hundreds of reports acknowledged', () => ackedPairs().length >= 400, 90_000);
    const keysBefore = await run.system.redis().dbsize();
    await run.system.redis().flushdb();
    const ackedBeforeFlush = ackedPairs();
    const reconciled = JSON.parse(run.system.cli('reconcile').trim().split('\n').at(-1) as string) as Record<
      string,
      number
    >;
    const answered = await driving;
    const invariants = await run.verify(answered, 180_000);

    // What was acknowledged before the flush is in the history, each (message, status) of it.
    const [{ missing }] = await run.system.query<{ missing: number }>(
      `SELECT count(*)::int AS missing FROM unnest($1::bigint[], $2::int[]) AS v(id, status)
        WHERE NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = v.id AND e.status = v.status)`,
      [ackedBeforeFlush.map(([id]) => id), ackedBeforeFlush.map(([, status]) => status)],
    );
    expect(missing).toBe(0);
    const acknowledgedIds = [...new Set(ackedPairs().map(([id]) => id))];
    const reportedButNoReport = await run.system.query<{ id: string }>(
      `SELECT id FROM messages WHERE status = 203 AND id = ANY($1::bigint[])`,
      [acknowledgedIds],
    );
    expect(reportedButNoReport).toEqual([]);
    const l9 = invariants.get('L9')?.counts;
    expect(l9).toMatchObject({ missing: 0, deadLettered: 0 });
    expect(l9?.acknowledged).toBeGreaterThanOrEqual(ackedBeforeFlush.length);
    // The app phones reported through the same durable path.
    expect(run.appFleets.reduce((n, fleet) => n + fleet.ledger.acknowledged.size, 0)).toBeGreaterThan(0);
    const [{ noReport }] = await run.system.query<{ noReport: number }>(
      `SELECT count(*) FILTER (WHERE status = 203)::int AS "noReport" FROM messages`,
    );
    reportFigure('reports-survive-redis-loss', {
      ...run.figures(invariants),
      keysFlushed: keysBefore,
      acknowledgedBeforeFlush: ackedBeforeFlush.length,
      acknowledged: l9?.acknowledged,
      reconciled,
      noReport,
    });
  }, 360_000);
});
