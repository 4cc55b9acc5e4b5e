import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { DeviceQueue } from '@smsfleet/contracts';
import { registerPhone, SimulatedFleet } from '../../tools/simulator/fleet';
import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { getdata } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

interface Result {
  id: string;
  holds: boolean;
  counts: Record<string, number>;
  examples: number[];
}

/**
 * `npm run cli -- check`: the invariants of docs/reliability.md from PostgreSQL, Redis and the ledger files.
 */
describe('cli check (invariants L1, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13)', () => {
  let system: TestSystem;
  let account: Account;
  let fleet: SimulatedFleet;
  let offlineDevice: number;
  let dir: string;
  const clientLedger: Array<{ status: number; ids: number[] }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smsfleet-check-'));
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status']);
    account = system.createAccount();
    fleet = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0.1 },
    });
    await fleet.provision(3);
    await fleet.connectAll();
    // A phone that never connects: whatever is planted in its queue stays there.
    offlineDevice = (await registerPhone(system.apiUrl, account.email, account.password, 'off')).deviceId;
  });

  afterAll(async () => {
    fleet?.stop();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeLedgers(ledger: PhoneLedger, extraClient: string[] = [], extraPhone: string[] = []) {
    const client = join(dir, 'client.jsonl');
    const phone = join(dir, 'phone.jsonl');
    writeFileSync(client, [...clientLedger.map((e) => JSON.stringify(e)), ...extraClient].join('\n'));
    writeFileSync(phone, [...ledger.toJsonLines(), ...extraPhone].join('\n'));
    return ['--client-ledger', client, '--phone-ledger', phone];
  }

  function check(...args: string[]) {
    const { status, stdout, stderr } = system.cliResult('check', ...args);
    const lines = stdout.trim().split('\n');
    const results = JSON.parse(lines.at(-1) as string) as Result[];
    return { status, lines: lines.slice(0, -1), stderr, byId: new Map(results.map((r) => [r.id, r])) };
  }

  it('after a settled run every invariant holds, with counts', async () => {
    for (const phone of fleet.phones) {
      const sendto = Array.from({ length: 10 }, (_, i) => `+4915700${phone.deviceId}${i}`.slice(0, 14));
      const answer = await getdata(system.apiUrl, 'addsms', {
        token: account.token,
        device_id: phone.deviceId,
        sendto: sendto.join(','),
        body: 'check',
      });
      expect(answer.body).toMatchObject({ error: 0 });
      clientLedger.push({ status: answer.status, ids: answer.body.sms_ids as number[] });
    }
    await waitFor(
      'all 30 final',
      async () =>
        (
          await system.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM messages WHERE status IN (1,2,3,6)`,
          )
        )[0].n === 0,
      60_000,
    );
    const result = check('--settled', ...writeLedgers(fleet.ledger));
    expect(result.status).toBe(0);
    expect(result.lines.map((line) => line.slice(0, 7))).toEqual([
      'L1 ok  ',
      'L3 ok  ',
      'L6 ok  ',
      'L7 ok  ',
      'L4 ok  ',
      'L5 ok  ',
      'L8 ok  ',
      'L9 ok  ',
      'L13 ok ',
      'L10 ok ',
      'L11 ok ',
      'L12 ok ',
    ]);
    expect(result.byId.get('L1')?.counts).toMatchObject({ idsAnswered: 30, missing: 0 });
    expect(result.byId.get('L3')?.counts).toMatchObject({ accepted: 30, nonFinal: 0 });
    const l7 = result.byId.get('L7')?.counts ?? {};
    expect(l7).toMatchObject({
      tenants: 1,
      accepted: 30,
      pending: 0,
      finalWithoutEvent: 0,
      unbalancedDevices: 0,
    });
    expect(l7.delivered + l7.failed + l7.expired).toBe(30);
    expect(result.byId.get('L4')?.counts).toMatchObject({ sentMoreThanOnce: 0, markedSentNotOnPhone: 0 });
    expect(result.byId.get('L5')?.counts).toMatchObject({ failedButSentOnPhone: 0, claimsNotSent: 0 });
    expect(result.byId.get('L5')?.counts.failed).toBe(l7.failed);
    expect(result.byId.get('L8')?.counts.uniqueIds).toBe(30);
    expect(result.byId.get('L13')?.counts).toEqual({ idsWithDevice: 30, receivedByTwoPhones: 0 });
    // Every report the phones saw acknowledged (6 and 7, or a failure, per message) is in the history.
    const acknowledged = [...fleet.ledger.acknowledged.values()].reduce(
      (n, statuses) => n + statuses.size,
      0,
    );
    expect(acknowledged).toBeGreaterThanOrEqual(30);
    expect(result.byId.get('L9')?.counts).toMatchObject({
      acknowledged,
      inHistory: acknowledged,
      missing: 0,
    });
  });

  it('a message scheduled ahead is fine on a live system, not in a settled one', async () => {
    const answer = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      device_id: offlineDevice,
      sendto: '+4915799999999',
      body: 'later',
      timetosend: '2099-01-01 12:00',
    });
    expect(answer.body).toMatchObject({ error: 0 });
    const live = check();
    expect(live.status).toBe(0);
    expect(live.byId.get('L3')?.counts).toMatchObject({ scheduledAhead: 1, overdue: 0 });
    const settled = check('--settled');
    expect(settled.status).toBe(2);
    expect(settled.byId.get('L3')).toMatchObject({ holds: false, examples: [answer.body.sms_id] });
    await system.query(`DELETE FROM messages WHERE id = $1`, [answer.body.sms_id]);
  });

  it('planted faults fail their invariants (exit 2), an honest 203 passes L5, and reconcile clears the queue residue', async () => {
    // The expiry job would finalise the planted overdue message: stop the scheduler first.
    await system.stopApp('scheduler');
    const [delivered] = await system.query<{ id: number }>(
      `SELECT id::int FROM messages WHERE status = 7 ORDER BY id LIMIT 1`,
    );
    const [overdue] = await system.query<{ id: number }>(
      `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until, enqueued_at)
       SELECT user_id, id, '+4915711111111', '+4915711111111', 'stuck', 0, now() - interval '3 days',
              now() - interval '2 days', now() - interval '3 days'
         FROM devices WHERE id = $1 RETURNING id::int`,
      [offlineDevice],
    );
    const queue = new Queue(DeviceQueue.name(offlineDevice), {
      connection: system.redis(),
      prefix: system.redisPrefix,
    });
    const job = { sendto: '+4915700000000', body: 'residue', sim: 0 };
    await queue.add('send', { ...job, messageId: delivered.id }, { jobId: DeviceQueue.jobId(delivered.id) });
    await queue.add('send', { ...job, messageId: 987_654_321 }, { jobId: DeviceQueue.jobId(987_654_321) });
    await queue.close();

    // L5: one message the phone sent marked "expired" (a lie), one marked 203 "sent, no report" (honest).
    const [lie, honest] = await system.query<{ id: number }>(
      `SELECT id::int FROM messages WHERE status = 7 ORDER BY id OFFSET 1 LIMIT 2`,
    );
    for (const [id, status, error] of [
      [lie.id, 202, 'validity ended before the message reached a phone'],
      [honest.id, 203, 'sent, no delivery report in time'],
    ] as const) {
      await system.query(`UPDATE messages SET status = $2, status_error = $3 WHERE id = $1`, [
        id,
        status,
        error,
      ]);
      await system.query(
        `INSERT INTO message_events (message_id, status, at, error) VALUES ($1, $2, now(), $3)`,
        [id, status, error],
      );
    }

    const firstSent = [...fleet.ledger.sends.keys()][0];
    const args = writeLedgers(
      fleet.ledger,
      [JSON.stringify({ status: 200, ids: [987_654_320] })],
      [
        JSON.stringify({ event: 'sent', id: firstSent }),
        // L9: a report a phone saw acknowledged that PostgreSQL does not have.
        JSON.stringify({ event: 'acked', id: lie.id, status: 8 }),
        // L13: a second phone received a message the first one had.
        JSON.stringify({ event: 'received', id: firstSent, repeat: false, device: offlineDevice }),
      ],
    );
    const result = check('--settled', ...args);
    expect(result.status).toBe(2);
    expect(result.lines.filter((line) => line.includes('FAIL')).map((line) => line.split(' ')[0])).toEqual([
      'L1',
      'L3',
      'L6',
      'L7',
      'L4',
      'L5',
      'L9',
      'L13',
    ]);
    expect(result.byId.get('L13')).toMatchObject({
      examples: [firstSent],
      counts: { idsWithDevice: 30, receivedByTwoPhones: 1 },
    });
    expect(result.byId.get('L1')?.examples).toEqual([987_654_320]);
    expect(result.byId.get('L3')?.examples).toEqual([overdue.id]);
    expect(result.byId.get('L6')?.counts).toMatchObject({ residue: 2, otherDevice: 1, missingMessage: 1 });
    expect(result.byId.get('L7')?.examples).toEqual([offlineDevice]);
    expect(result.byId.get('L4')?.examples).toEqual([firstSent]);
    expect(result.byId.get('L5')).toMatchObject({
      examples: [lie.id],
      counts: expect.objectContaining({ failedButSentOnPhone: 2, noReportSent: 1, claimsNotSent: 1 }),
    });
    expect(result.byId.get('L9')).toMatchObject({
      examples: [lie.id],
      counts: expect.objectContaining({ missing: 1, deadLettered: 0 }),
    });
    // Live mode: the stuck message is overdue (past its validity) even without --settled.
    expect(check().byId.get('L3')).toMatchObject({
      holds: false,
      counts: expect.objectContaining({ overdue: 1 }),
    });

    system.cli('reconcile');
    expect(check().byId.get('L6')).toMatchObject({
      holds: true,
      counts: expect.objectContaining({ residue: 0 }),
    });
  });

  it('a due newsletter the scheduler has not expanded is unfinished work: not settled, and overdue after the margin', async () => {
    // The scheduler is stopped (above), so nothing expands it; only the newsletter may fail L3 here.
    await system.stopApp('scheduler');
    await system.query(`DELETE FROM messages WHERE device_id = $1 AND status IN (1, 2, 3, 6)`, [
      offlineDevice,
    ]);
    const [newsletter] = await system.query<{ id: number }>(
      `INSERT INTO newsletters (user_id, device_id, title, body, sim, tag_ids, time_to_send)
       SELECT user_id, id, 'due', 'due', 0, '{}', now() FROM devices WHERE id = $1 RETURNING id`,
      [offlineDevice],
    );
    const settled = check('--settled').byId.get('L3');
    expect(settled).toMatchObject({
      holds: false,
      counts: expect.objectContaining({ nonFinal: 0, newslettersDue: 1 }),
    });
    // Live: due only just now, within the margin.
    expect(check().byId.get('L3')).toMatchObject({
      holds: true,
      counts: expect.objectContaining({ newslettersDue: 1, newslettersOverdue: 0 }),
    });
    await system.query(`UPDATE newsletters SET time_to_send = now() - interval '2 days' WHERE id = $1`, [
      newsletter.id,
    ]);
    expect(check().byId.get('L3')).toMatchObject({
      holds: false,
      counts: expect.objectContaining({ overdue: 0, newslettersOverdue: 1 }),
    });
    await system.query(`DELETE FROM newsletters WHERE id = $1`, [newsletter.id]);
    expect(check('--settled').byId.get('L3')?.holds).toBe(true);
  });

  it('refuses a malformed ledger file with a line number', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"status":200,"ids":[1]}\n{"status":"x"}\n');
    const result = system.cliResult('check', '--client-ledger', bad);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('bad.jsonl:2');
  });
});
