import { reportFigure } from '../helpers/figures';
import { LoadRequest, LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

const BULK = 1_000;

/**
 * F1 (docs/reliability.md): kill -9 the api in the middle of a 1,000-message addalotofsms — once while its
 * transaction is open, once after it committed but (most likely) before it answered — while other
 * clients keep sending. Each time the whole request is stored or nothing, the careful client's retry
 * with the same Idempotency-Key gets 1,000 ids that are exactly the rows stored, and the run settles
 * with every invariant holding.
 */
describe('F1: kill -9 the api in the middle of a 1,000-message bulk', () => {
  let run: LoadRun;

  beforeAll(async () => {
    run = await LoadRun.start();
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  function bulk(name: string): LoadRequest {
    const phones = run.fleets[0].phones;
    const smsdata = Array.from({ length: BULK }, (_, i) => ({
      sendto: `+49160${String(i).padStart(7, '0')}`,
      body: `f1 ${name} ${i}`,
      device_id: phones[i % phones.length].deviceId,
    }));
    return { method: 'addalotofsms', tenant: 0, body: { smsdata }, messages: BULK, key: `f1-${name}` };
  }

  const storedOf = async (name: string) =>
    (
      await run.system.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE body LIKE $1`, [
        `f1 ${name} %`,
      ])
    )[0].n;

  /**
   * Sends the bulk and kill -9s the api once `moment` sees it; restarts the api. Answers the rows stored
   * at the kill, and the client's final answer (after its retries with the same key).
   */
  async function killDuring(name: string, moment: () => Promise<boolean>) {
    const request = bulk(name);
    const answer = run.send(request);
    const seen = await waitFor(`the moment to kill (${name})`, moment, 30_000, 2);
    await run.system.kill('api');
    const killedAt = Date.now();
    const storedAtKill = await storedOf(name);
    await run.system.startApp('api');
    const answered = await answer;
    return { seen, storedAtKill, answered, recoveryMs: Date.now() - killedAt };
  }

  it('stores the whole bulk or nothing; the same-key retry gets the same ids; all invariants hold', async () => {
    // 1. Quiet system: the only INSERT into messages in flight is the bulk's, inside its transaction.
    const inTransaction = await killDuring('open', async () => {
      const rows = await run.system.query(
        `SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'smsfleet-api'
            AND state IN ('active', 'idle in transaction') AND query LIKE 'INSERT INTO messages%'`,
      );
      return rows.length > 0;
    });
    expect([0, BULK]).toContain(inTransaction.storedAtKill);

    // 2. Under load from other clients (who see the crash too and retry): kill right after the commit.
    const background = run.drive(
      run.mix({
        keyPrefix: 'f1',
        bulks: 2,
        bulkSize: 150,
        multis: 20,
        multiSize: 10,
        singles: 100,
        urgentEvery: 20,
      }),
      4,
    );
    await waitFor('background traffic', () => run.count(200) > 20);
    const committed = await killDuring('committed', async () => (await storedOf('committed')) > 0);
    expect(committed.storedAtKill).toBe(BULK);
    const answered = [inTransaction.answered, committed.answered, ...(await background)];

    for (const [name, round] of [
      ['open', inTransaction],
      ['committed', committed],
    ] as const) {
      // The retry answered the whole bulk, and those ids are exactly the rows stored: once, not twice.
      const ids = new Set(round.answered.ids);
      expect(ids.size).toBe(BULK);
      const rows = await run.system.query<{ id: string }>(`SELECT id FROM messages WHERE body LIKE $1`, [
        `f1 ${name} %`,
      ]);
      expect(rows.map((row) => Number(row.id)).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    }
    // The open-transaction kill landed before the client had its answer (else this run did not test F1).
    expect(inTransaction.answered.attempts).toBeGreaterThan(1);
    // A client that lost the answer to the committed bulk retries after the restart: the same ids.
    expect((await run.send(committed.answered.request)).ids).toEqual(committed.answered.ids);

    const invariants = await run.verify(answered);
    reportFigure('fault-f1', {
      ...run.figures(invariants),
      storedAtKill: [inTransaction.storedAtKill, committed.storedAtKill],
      recoveryMs: [inTransaction.recoveryMs, committed.recoveryMs],
      committedAnswerLost: committed.answered.attempts > 1,
    });
  }, 240_000);
});
