import { RedisServer } from '../harness/redis-server';
import { reportFigure } from '../helpers/figures';
import { FAULT_RUN_MIX, LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

/**
 * F6b (docs/reliability.md): the whole Redis is flushed (FLUSHALL, an operator's mistake) in the middle of a
 * ≈2,000-message run, while a few phones are out of coverage with messages queued for them. Queues, jobs
 * in flight, status reports not yet written, leases, presence and the scheduler's marker all go at once;
 * Redis itself stays up. The scheduler sees its marker gone and
 * rebuilds every device queue from PostgreSQL by itself (no `cli reconcile`), the phones de-duplicate what
 * comes again, and every invariant holds over both ledgers (`cli check --settled`), L9 included: a report
 * acknowledged to a phone was committed in PostgreSQL first (ADR 1801), so the flush cannot take it, and no
 * message a phone reported ends as 203 ("no report"). Half the phones follow protocol v1 as it stood (no
 * re-send of a report when a message comes again): they must lose nothing either.
 */
describe('F6b: Redis flushed mid-run', () => {
  let run: LoadRun & { redis: RedisServer };

  beforeAll(async () => {
    run = await LoadRun.onPrivateRedis();
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('rebuilds the queues by itself after FLUSHALL, and every invariant holds', async () => {
    const started = Date.now();
    // A few phones are out of coverage (keeping what they owe), so that queued jobs are certain to be
    // among what the flush takes: the others drain a run this size in a second or two.
    for (const fleet of run.fleets)
      fleet.phones.forEach((phone, index) => (phone.resendOnRepeat = index % 2 === 0));
    const away = run.fleets[0].phones.slice(0, 5);
    for (const phone of away) phone.dropConnection();
    const awayIds = away.map((phone) => phone.deviceId);
    const driving = run.drive(run.mix({ keyPrefix: 'f6b', ...FAULT_RUN_MIX }), 4);
    await waitFor('a third of the requests answered', () => run.count(200) > 180, 60_000);
    const queuedForAway = await waitFor('messages queued for the phones away', async () => {
      const [{ n }] = await run.system.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE status IN (1, 3) AND device_id = ANY($1::int[])`,
        [awayIds],
      );
      return n >= 50 ? n : undefined;
    });
    const answersBefore = run.count(200);
    const keysBefore = await run.system.redis().dbsize();
    await run.system.redis().flushall();
    const flushedAt = Date.now();

    // The scheduler's own rebuild, not an operator's reconcile: it logs it.
    const rebuilt = await waitFor(
      'the scheduler rebuilt the queues',
      () =>
        run.system
          .logLines('scheduler')
          .find(
            (line) =>
              line.msg === 'Redis lost data: device queues rebuilt from PostgreSQL' &&
              (line.time as number) >= flushedAt,
          ),
      30_000,
    );
    for (const phone of away) phone.restoreConnection();
    const answered = await driving;
    const invariants = await run.verify(answered, 180_000);
    const [{ noReport }] = await run.system.query<{ noReport: number }>(
      `SELECT count(*) FILTER (WHERE status = 203)::int AS "noReport" FROM messages`,
    );
    // Not one message whose report a phone saw acknowledged ended as "no report".
    const acknowledged = run.fleets.flatMap((fleet) => [...fleet.ledger.acknowledged.keys()]);
    const reportedButNoReport = await run.system.query<{ id: string }>(
      `SELECT id FROM messages WHERE status = 203 AND id = ANY($1::bigint[])`,
      [acknowledged],
    );
    expect(reportedButNoReport).toEqual([]);
    expect(invariants.get('L9')?.counts).toMatchObject({ missing: 0 });
    expect(invariants.get('L9')?.counts.acknowledged).toBeGreaterThan(0);
    expect(answersBefore).toBeLessThan(answered.length);
    expect(keysBefore).toBeGreaterThan(0);
    // At least what waited for the phones away had lost its job and was queued again.
    expect(rebuilt.enqueued).toBeGreaterThanOrEqual(queuedForAway);
    reportFigure('fault-f6b', {
      ...run.figures(invariants),
      keysFlushed: keysBefore,
      queuedForPhonesAway: queuedForAway,
      rebuilt: { checked: rebuilt.checked, enqueued: rebuilt.enqueued },
      noReport,
      rebuiltAfterFlushMs: (rebuilt.time as number) - flushedAt,
      settledAfterFlushMs: Date.now() - flushedAt,
      runMs: Date.now() - started,
    });
  }, 360_000);
});
