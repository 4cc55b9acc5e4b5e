import { registerPhone } from '../../tools/simulator/fleet';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const HOUR_MS = 3_600_000;
type Outcomes = { delivered: number; failed: number; waiting: number; in_progress: number };

let system: TestSystem;
let a: Account;
let b: Account;
let userA: number;
let userB: number;
let deviceA: number;
let deviceB: number;
/** The current hour's start: the test's messages sit in hours that closed an hour or more ago. */
const current = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const hour = (back: number) => new Date(current - back * HOUR_MS);

async function userOf(account: Account): Promise<number> {
  const [row] = await system.query<{ id: number }>('SELECT id FROM users WHERE email = $1', [account.email]);
  return row.id;
}

/** Messages of the account created at `at` (plus a few seconds each) with these statuses; answers their ids. */
async function insert(user: number, device: number, at: Date, statuses: number[]): Promise<number[]> {
  const rows = await system.query<{ id: string }>(
    `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, status, created_at, time_to_send, valid_until,
                           taken_at, sent_at)
     SELECT $1, $2, '+4915700000001', '+4915700000001', 'hour roll-up', 0, s,
            $3::timestamptz + make_interval(secs => n), now() + interval '1 day', now() + interval '2 days',
            CASE WHEN s IN (2, 6) THEN now() END, CASE WHEN s = 6 THEN now() END
       FROM unnest($4::smallint[]) WITH ORDINALITY AS m(s, n)
     RETURNING id`,
    [user, device, at, statuses],
  );
  return rows.map((row) => Number(row.id));
}

/** The 7-day chart's hours with any message, as the api answers them. */
async function chart(account: Account): Promise<Record<string, Outcomes>> {
  const response = await fetch(`${system.apiUrl}/v1/overview?range=7d`, {
    headers: { authorization: `Bearer ${account.token}` },
  });
  const body = (await response.json()) as { hours: Array<Outcomes & { hour: string }> };
  const hours: Record<string, Outcomes> = {};
  for (const { hour: at, ...counts } of body.hours)
    if (Object.values(counts).some((count) => count > 0)) hours[at] = counts;
  return hours;
}

/** The same, counted directly over the account's messages. */
async function counted(user: number): Promise<Record<string, Outcomes>> {
  const rows = await system.query<{ hour: Date; status: number; count: number }>(
    `SELECT to_timestamp(floor(extract(epoch FROM created_at) / 3600) * 3600) AS hour, status, count(*)::int AS count
       FROM messages WHERE user_id = $1 AND status <> 5 AND created_at >= now() - interval '7 days'
      GROUP BY 1, 2`,
    [user],
  );
  const hours: Record<string, Outcomes> = {};
  for (const row of rows) {
    const counts = (hours[new Date(row.hour).toISOString()] ??= {
      delivered: 0,
      failed: 0,
      waiting: 0,
      in_progress: 0,
    });
    const outcome =
      row.status === 7
        ? 'delivered'
        : row.status === 1 || row.status === 3
          ? 'waiting'
          : row.status === 2 || row.status === 6
            ? 'in_progress'
            : 'failed';
    counts[outcome] += row.count;
  }
  return hours;
}

async function storedHours(user: number): Promise<string[]> {
  const rows = await system.query<{ hour: Date }>(
    'SELECT hour FROM message_hours_closed WHERE user_id = $1 AND hour >= $2 ORDER BY hour',
    [user, hour(8 * 24)],
  );
  return rows.map((row) => new Date(row.hour).toISOString());
}

/** A fresh api: nothing of the chart in its memory, as after a deploy or on a new replica. */
async function restartApi(): Promise<void> {
  await system.stopApp('api');
  await system.startApp('api');
}

async function expectChartsEqualCounts(): Promise<void> {
  expect(await chart(a)).toEqual(await counted(userA));
  expect(await chart(b)).toEqual(await counted(userB));
}

/**
 * The scheduler's hour roll-up (docs/dashboard.md): counts of closed hours stored in PostgreSQL, read by
 * the overview instead of the messages. The chart must equal a direct COUNT whether the sweep has run or
 * not, as statuses change; an hour with a message that may still change is never stored; each account
 * sees its own counts only.
 */
describe('overview: hours rolled up by the scheduler', () => {
  beforeAll(async () => {
    system = await TestSystem.start(['api'], { SCHEDULER_HOUR_ROLLUP_INTERVAL_MS: '200' });
    a = system.createAccount();
    b = system.createAccount();
    [userA, userB] = [await userOf(a), await userOf(b)];
    deviceA = (await registerPhone(system.apiUrl, a.email, a.password, 'roll-up A')).deviceId;
    deviceB = (await registerPhone(system.apiUrl, b.email, b.password, 'roll-up B')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
  });

  let sentA: number;
  let waitingA: number;

  it('without the sweep: the chart counts the messages, as their statuses change', async () => {
    await insert(userA, deviceA, hour(30), [7, 7, 7, 9, 202]);
    [sentA] = await insert(userA, deviceA, hour(5), [6, 7, 7]);
    [waitingA] = await insert(userA, deviceA, hour(3), [1, 8]);
    await insert(userA, deviceA, hour(0), [7]);
    await insert(userB, deviceB, hour(30), [7, 7, 7, 7, 8, 8]);
    await insert(userB, deviceB, hour(5), [2]);
    await expectChartsEqualCounts();
    // The phone's final report for the message of five hours ago.
    await system.query('UPDATE messages SET status = 7, delivered_at = now() WHERE id = $1', [sentA]);
    await expectChartsEqualCounts();
    expect(await storedHours(userA)).toEqual([]);
  });

  it('the sweep stores closed hours whose messages are all final, never one that may still change', async () => {
    await system.startApp('scheduler');
    // One round stores both accounts' hours, one account after the other.
    await waitFor(
      "the sweep to store both accounts' hours",
      async () =>
        (await storedHours(userA)).includes(hour(5).toISOString()) &&
        (await storedHours(userB)).includes(hour(30).toISOString()),
    );
    const storedA = await storedHours(userA);
    const storedB = await storedHours(userB);
    expect(storedA).toEqual(
      expect.arrayContaining([hour(30), hour(5), hour(4), hour(2)].map((h) => h.toISOString())),
    );
    // Still waiting (A) or at a phone (B): these hours may move.
    expect(storedA).not.toContain(hour(3).toISOString());
    expect(storedB).not.toContain(hour(5).toISOString());
    expect(storedB).toContain(hour(30).toISOString());
    // The hour under way is not closed yet.
    expect(storedA).not.toContain(hour(0).toISOString());
    const counts = await system.query<{ user_id: number; status: number; count: number }>(
      'SELECT user_id, status, count FROM message_hour_counts WHERE hour = $1 ORDER BY user_id, status',
      [hour(30)],
    );
    expect(counts.map((row) => [row.user_id, row.status, row.count])).toEqual([
      [userA, 7, 3],
      [userA, 9, 1],
      [userA, 202, 1],
      [userB, 7, 4],
      [userB, 8, 2],
    ]);
    await restartApi();
    await expectChartsEqualCounts();
  });

  it('a fresh api reads the stored hours, each account its own', async () => {
    // Proof that the stored counts are what the chart shows: change one and see it (then put it back).
    await system.query(
      'UPDATE message_hour_counts SET count = count + 1000 WHERE user_id = $1 AND hour = $2 AND status = 7',
      [userA, hour(30)],
    );
    await restartApi();
    const tampered = await chart(a);
    expect(tampered[hour(30).toISOString()].delivered).toBe(1003);
    expect(await chart(b)).toEqual(await counted(userB));
    await system.query(
      'UPDATE message_hour_counts SET count = count - 1000 WHERE user_id = $1 AND hour = $2 AND status = 7',
      [userA, hour(30)],
    );
    await restartApi();
    await expectChartsEqualCounts();
  });

  it('after statuses change, with the sweep running: the chart still equals the count', async () => {
    const cancel = await fetch(`${system.apiUrl}/v1/messages/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [waitingA] }),
    });
    expect(await cancel.json()).toMatchObject({ cancelled: 1 });
    await expectChartsEqualCounts();
    await waitFor('the sweep to store the cancelled hour', async () =>
      (await storedHours(userA)).includes(hour(3).toISOString()),
    );
    await restartApi();
    await expectChartsEqualCounts();
    expect((await chart(a))[hour(3).toISOString()]).toEqual({
      delivered: 0,
      failed: 2,
      waiting: 0,
      in_progress: 0,
    });
  });

  it('keeps 8 days: older stored hours are deleted with their counts', async () => {
    await system.query('INSERT INTO message_hours_closed (user_id, hour) VALUES ($1, $2)', [
      userB,
      hour(8 * 24 + 1),
    ]);
    await system.query(
      'INSERT INTO message_hour_counts (user_id, hour, status, count) VALUES ($1, $2, 7, 5)',
      [userB, hour(8 * 24 + 1)],
    );
    const old = () =>
      system.query('SELECT hour FROM message_hours_closed WHERE user_id = $1 AND hour < $2', [
        userB,
        hour(8 * 24),
      ]);
    await waitFor('the sweep to delete the old hour', async () => (await old()).length === 0);
    expect(await system.query('SELECT 1 FROM message_hour_counts WHERE hour < $1', [hour(8 * 24)])).toEqual(
      [],
    );
    // Nothing older is left; the window's hours stay.
    expect(await storedHours(userB)).toContain(hour(30).toISOString());
    const first = await system.query<{ hour: Date }>(
      'SELECT hour FROM message_hours_closed WHERE user_id = $1 ORDER BY hour LIMIT 1',
      [userB],
    );
    expect(new Date(first[0].hour).getTime()).toBeGreaterThanOrEqual(hour(8 * 24).getTime());
  });
});
