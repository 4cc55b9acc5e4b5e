import { Client } from 'pg';
import { SimulatedPhone } from '../../tools/simulator/simulated-phone';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

const CONTACTS = 600;
/** When the newsletter (after it is created) and the scheduled bulks (after they are sent) come due. */
const NEWSLETTER_DUE_MS = 5_000;
const BULKS_DUE_MS = 4_000;

/**
 * F3 (docs/reliability.md): kill -9 the scheduler while it holds claimed rows — once in the middle of a
 * newsletter expansion (600 contacts), once in the middle of an outbox sweep (1,200 scheduled messages
 * coming due together, beyond the horizon until then). The claims die with the connection; the restarted
 * scheduler expands the newsletter once (one message per contact) and sends every message once.
 */
describe('F3: kill -9 the scheduler while it holds claimed rows', () => {
  let run: LoadRun;

  beforeAll(async () => {
    // A 1 s horizon: the scheduled bulks wait in PostgreSQL and go through the outbox sweep.
    run = await LoadRun.start({ env: { SCHEDULE_HORIZON_SECONDS: '1', LOG_LEVEL: 'warn' } });
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  /** The backend of the scheduler's open write transaction (it holds row locks) whose last statement matches. */
  const holding = async (statement: string) =>
    (
      await run.system.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'smsfleet-scheduler'
            AND backend_xid IS NOT NULL AND query LIKE $1`,
        [statement],
      )
    )[0]?.pid;
  const backendAlive = async (pid: number) =>
    (await run.system.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])).length > 0;

  async function killAndRestartScheduler(): Promise<number> {
    await run.system.kill('scheduler');
    const killedAt = Date.now();
    await run.system.startApp('scheduler');
    return Date.now() - killedAt;
  }

  it('the claims unlock; the restarted scheduler expands the newsletter once and sends everything once', async () => {
    const started = Date.now();
    const alice = run.tenants[0];
    // 200 messages now; none to the newsletter's phone (provisioned below).
    const requests = run.mix({
      keyPrefix: 'f3-now',
      bulks: 0,
      bulkSize: 0,
      multis: 10,
      multiSize: 10,
      singles: 100,
    });
    // 1,200 messages due together, BULKS_DUE_MS after they are sent, sent after the newsletter phase.
    const scheduled = run.mix({
      keyPrefix: 'f3',
      bulks: 3,
      bulkSize: 400,
      multis: 0,
      multiSize: 0,
      singles: 0,
      scheduledEvery: 1,
      scheduledAheadMs: [BULKS_DUE_MS, BULKS_DUE_MS + 1],
    });
    const tag = (await getdata(run.system.apiUrl, 'savetag', { token: alice.token, title: 'f3' })).body
      .tag_id as number;
    const phones = Array.from({ length: CONTACTS }, (_, i) => `+49161${String(i).padStart(7, '0')}`);
    for (let i = 0; i < CONTACTS; i += 8)
      await Promise.all(
        phones
          .slice(i, i + 8)
          .map((phone) =>
            getdata(run.system.apiUrl, 'savecontact', { token: alice.token, phone, ctag_id: tag }),
          ),
      );
    // The newsletter goes to a phone of its own, outside the mix (its row is locked below).
    await run.fleets[0].provision(1);
    const newsletterPhone = run.fleets[0].phones.at(-1) as SimulatedPhone;
    await newsletterPhone.connect();
    const newsletterDevice = newsletterPhone.credentials.deviceId;
    const paket = await getdata(run.system.apiUrl, 'savepaket', {
      token: alice.token,
      title: 'f3',
      body: 'f3 newsletter',
      device_id: newsletterDevice,
      tags: tag,
      time_to_send: Math.ceil((Date.now() + NEWSLETTER_DUE_MS) / 1_000),
    });
    const newsletterId = paket.body.paket_id as number;
    expect(newsletterId).toBeGreaterThan(0);

    // A test transaction locks the newsletter's device row (FOR UPDATE): the expansion's INSERT waits on
    // it (its foreign key check), so the scheduler is caught holding its claim in the middle of expanding.
    const blocker = new Client({ connectionString: run.system.databaseUrl });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM devices WHERE id = $1 FOR UPDATE`, [newsletterDevice]);

    const answered = await run.drive(requests);

    const expanding = await waitFor(
      'the scheduler expanding the newsletter',
      () => holding('%FROM newsletters n%'),
      30_000,
      20,
    );
    const recoveryMs = [await killAndRestartScheduler()];
    // Its backend waits on the blocker's lock and would hold the claim as long as that lasts; the session's
    // connection check ends it within seconds, the lock still held.
    await waitFor(
      "the killed scheduler's backend gone",
      async () => !(await backendAlive(expanding)),
      10_000,
    );
    await blocker.query('ROLLBACK');
    // Sent only now, so however long the first kill took, they are still beyond the horizon when the test
    // starts watching for their sweep.
    answered.push(...(await run.drive(scheduled)));
    await waitFor(
      'the scheduler sweeping the outbox',
      () => holding('%FROM messages%FOR UPDATE SKIP LOCKED%'),
      30_000,
      2,
    );
    recoveryMs.push(await killAndRestartScheduler());
    await blocker.end();

    const invariants = await run.verify(answered);
    // The newsletter was expanded once: one message per contact, all final.
    const [newsletter] = await run.system.query<{ message_count: number; messages: number; numbers: number }>(
      `SELECT n.message_count, count(m.id)::int AS messages, count(DISTINCT m.phone)::int AS numbers
         FROM newsletters n LEFT JOIN messages m ON m.newsletter_id = n.id WHERE n.id = $1 GROUP BY n.id`,
      [newsletterId],
    );
    expect(newsletter).toEqual({ message_count: CONTACTS, messages: CONTACTS, numbers: CONTACTS });
    expect(invariants.get('L3')?.counts).toMatchObject({ accepted: 1_400 + CONTACTS, nonFinal: 0 });
    reportFigure('fault-f3', { ...run.figures(invariants), recoveryMs, settledMs: Date.now() - started });
  }, 240_000);
});
