import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { EnqueuedMarker } from '@smsfleet/queueing';
import { DeviceQueue } from '../../libs/contracts/src';
import { writePhoneLedger } from '../../tools/ledger-files';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { startApps } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** The answers of both routes, success and error alike (only what the cases read). */
interface V1Answer {
  error: number;
  code?: string;
  message: string;
  cancelled: number;
  results: Array<{ id: number; result: string; status: number | null }>;
  queued?: boolean;
  valid_until?: string;
}

/** Short, so a move beyond it (the outbox sweep's part) is tested within seconds. */
const HORIZON_SECONDS = 5;

/**
 * Cancel and reschedule (POST /v1/messages/cancel, /v1/messages/:id/reschedule; ADR 2211) against the real
 * system: real socket.io phones and SMSGate app doubles, real queues. The race: phones take messages while
 * cancels fire; every message ends once, either cancelled (and no phone ever received it) or delivered.
 */
describe('cancel and reschedule', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  /** Every phone of the suite: the final `cli check` judges every message sent in it. */
  const ledgers: PhoneLedger[] = [];

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status'], {
      SCHEDULE_HORIZON_SECONDS: String(HORIZON_SECONDS),
      DISPATCH_IDLE_POLL_MS: '1000',
    });
    alice = system.createAccount();
    bob = system.createAccount();
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
  });

  function fleet(account: Account, ackDelayMs = 0): SimulatedFleet {
    const phones = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0, ackDelayMs },
    });
    ledgers.push(phones.ledger);
    return phones;
  }

  async function v1(account: Account, path: string, body: unknown) {
    const response = await fetch(`${system.apiUrl}/v1/messages/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as V1Answer };
  }

  /** `count` messages in requests of at most 100 recipients; answers their ids in order. */
  async function add(
    account: Account,
    deviceId: number,
    count: number,
    extra: Record<string, string | number> = {},
  ) {
    const ids: number[] = [];
    for (let start = 0; start < count; start += 100) {
      const numbers = Array.from(
        { length: Math.min(100, count - start) },
        (_, n) => `+49157${String(start + n).padStart(7, '0')}`,
      );
      const answer = await getdata(
        system.apiUrl,
        'addsms',
        { token: account.token, sendto: numbers.join(','), body: 'hello', device_id: deviceId, ...extra },
        'form',
      );
      expect(answer.body).toMatchObject({ error: 0 });
      ids.push(...((answer.body.sms_ids as number[] | undefined) ?? [answer.body.sms_id as number]));
    }
    return ids;
  }

  async function statuses(ids: number[]): Promise<Map<number, number>> {
    const rows = await system.query<{ id: string; status: number }>(
      `SELECT id, status FROM messages WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return new Map(rows.map((row) => [Number(row.id), row.status]));
  }

  async function jobStates(deviceId: number, ids: number[]): Promise<string[]> {
    const queue = new Queue(DeviceQueue.name(deviceId), {
      connection: system.redis(),
      prefix: system.redisPrefix,
    });
    try {
      return await Promise.all(ids.map((id) => queue.getJobState(DeviceQueue.jobId(id))));
    } finally {
      await queue.close();
    }
  }

  const utc = (at: number) => new Date(at).toISOString().slice(0, 19).replace('T', ' ');

  it('cancels one waiting message: 205 with its history, its job gone, never sent when the phone comes', async () => {
    const phones = fleet(alice);
    const [device] = await phones.provision(1);
    const [victim, keeper] = await add(alice, device.deviceId, 2);
    const answer = await v1(alice, 'cancel', { ids: [victim] });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      error: 0,
      cancelled: 1,
      taken: 0,
      final: 0,
      not_found: 0,
      more: false,
      results: [{ id: victim, result: 'cancelled', status: 205 }],
    });
    expect(await jobStates(device.deviceId, [victim])).toEqual(['unknown']);
    const [event] = await system.query<{ status: number; error: string }>(
      `SELECT status, error FROM message_events WHERE message_id = $1`,
      [victim],
    );
    expect(event).toEqual({ status: 205, error: 'cancelled by the account' });
    // Again: it is final now.
    expect((await v1(alice, 'cancel', { ids: String(victim) })).body).toMatchObject({
      final: 1,
      results: [{ id: victim, result: 'final', status: 205 }],
    });
    await phones.connectAll();
    try {
      await waitFor(
        'the other message delivered',
        async () => (await statuses([keeper])).get(keeper) === 7,
        15_000,
      );
      expect(phones.ledger.received.map((entry) => entry.id)).toEqual([keeper]);
      expect((await statuses([victim])).get(victim)).toBe(205);
      // Taken and delivered: a cancel now says so and changes nothing.
      expect((await v1(alice, 'cancel', { ids: [keeper] })).body.results).toEqual([
        { id: keeper, result: 'final', status: 7 },
      ]);
    } finally {
      phones.stop();
    }
  });

  it('cancels by device and by customer id, only the matching waiting messages of the caller', async () => {
    const phones = fleet(alice);
    const [one, two] = await phones.provision(2);
    const ofOne = await add(alice, one.deviceId, 30);
    const customer = await add(alice, two.deviceId, 5, { customer_id: 4242 });
    const others = await add(alice, two.deviceId, 5, { customer_id: 4243 });
    const byCustomer = await v1(alice, 'cancel', { customer_id: 4242 });
    expect(byCustomer.body).toMatchObject({ cancelled: 5, taken: 0, more: false });
    expect(byCustomer.body.results.map((r: { id: number }) => r.id)).toEqual(customer);
    const byDevice = await v1(alice, 'cancel', { device_id: one.deviceId });
    expect(byDevice.body).toMatchObject({ cancelled: 30, taken: 0 });
    const after = await statuses([...ofOne, ...customer, ...others]);
    expect([...ofOne, ...customer].every((id) => after.get(id) === 205)).toBe(true);
    expect(others.every((id) => after.get(id) === 1)).toBe(true);
    expect((await jobStates(one.deviceId, ofOne)).every((state) => state === 'unknown')).toBe(true);
    expect(await jobStates(two.deviceId, others)).toEqual(others.map(() => 'prioritized'));
    // A filter matching nothing waiting: an empty answer.
    expect((await v1(alice, 'cancel', { device_id: one.deviceId })).body).toMatchObject({
      cancelled: 0,
      results: [],
    });
  });

  it('isolates tenants: another account’s messages and devices are not found, and stay waiting', async () => {
    const phones = fleet(alice);
    const [device] = await phones.provision(1);
    const [id] = await add(alice, device.deviceId, 1);
    expect((await v1(bob, 'cancel', { ids: [id] })).body).toMatchObject({
      cancelled: 0,
      not_found: 1,
      results: [{ id, result: 'not_found', status: null }],
    });
    const byDevice = await v1(bob, 'cancel', { device_id: device.deviceId });
    expect(byDevice).toMatchObject({ status: 404, body: { error: 1, code: 'not_found' } });
    const reschedule = await v1(bob, `${id}/reschedule`, { timetosend: '2030-01-01 10:00:00' });
    expect(reschedule).toMatchObject({ status: 404, body: { error: 1, code: 'not_found' } });
    expect((await statuses([id])).get(id)).toBe(1);
    expect(await jobStates(device.deviceId, [id])).toEqual(['prioritized']);
  });

  it('answers bad input with a clear error, never a 500, and changes nothing', async () => {
    const phones = fleet(alice);
    const [device] = await phones.provision(1);
    const [id] = await add(alice, device.deviceId, 1);
    const cases: Array<[string, unknown, RegExp]> = [
      ['cancel', {}, /give ids, or at least one filter/],
      ['cancel', { ids: [] }, /ids needs at least one/],
      ['cancel', { ids: 'abc' }, /ids must be a whole number/],
      ['cancel', { ids: [id], device_id: device.deviceId }, /not both/],
      ['cancel', { ids: Array.from({ length: 1_001 }, (_, n) => n + 1) }, /more than 1000/],
      ['cancel', { pool: 3 }, /pool is not a cancel filter; give pool_id/],
      ['cancel', { pool_id: 0 }, /pool_id must be between 1 and/],
      ['cancel', { device_id: 'x' }, /device_id/],
      ['cancel', { ids: { a: 1 } }, /ids must be a list/],
      [`${id}/reschedule`, {}, /timetosend/],
      [`${id}/reschedule`, { timetosend: 'tomorrow' }, /timetosend must be a date/],
      [`${id}/reschedule`, { timetosend: '2026-13-45T10:00:00Z' }, /timetosend is not a valid ISO 8601/],
    ];
    for (const [path, body, message] of cases) {
      const answer = await v1(alice, path, body);
      expect({ path, body, status: answer.status, error: answer.body.error, code: answer.body.code }).toEqual(
        {
          path,
          body,
          status: 400,
          error: 1,
          code: 'validation',
        },
      );
      expect(answer.body.message).toMatch(message);
    }
    expect((await v1(alice, 'abc/reschedule', { timetosend: '0' })).status).toBe(404);
    const noToken = await fetch(`${system.apiUrl}/v1/messages/cancel`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    expect((await statuses([id])).get(id)).toBe(1);
    await v1(alice, 'cancel', { ids: [id] });
    const final = await v1(alice, `${id}/reschedule`, { timetosend: '0' });
    expect(final).toMatchObject({ status: 409, body: { error: 1, code: 'not_waiting' } });
    expect(final.body.message).toMatch(/is final \(status 205/);
  });

  it('documents both routes in the OpenAPI document, with their errors', async () => {
    const document = (await (await fetch(`${system.apiUrl}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(document.paths['/v1/messages/cancel'].post.responses)).toEqual([
      '200',
      '400',
      '401',
      '404',
    ]);
    expect(Object.keys(document.paths['/v1/messages/{id}/reschedule'].post.responses)).toEqual([
      '200',
      '400',
      '401',
      '404',
      '409',
    ]);
  });

  it('reschedules: earlier and later, in Redis and beyond the horizon; the phone gets each at its new time', async () => {
    const phones = fleet(alice);
    const [device] = await phones.provision(1);
    await phones.connectAll();
    try {
      const now = Date.now();
      // Beyond the horizon (only in PostgreSQL) → in 3 s.
      const [farToSoon] = await add(alice, device.deviceId, 1, { timetosend: utc(now + 60_000) });
      // Delayed job in 3–4 s → in 4.5 s (still within the horizon: its job moves, with its new delay).
      const [soonToLater] = await add(alice, device.deviceId, 1, { timetosend: utc(now + 4_000) });
      // Delayed job in 3–4 s → in 9 s (beyond the horizon: removed, the outbox sweep adds it later).
      const [soonToFar] = await add(alice, device.deviceId, 1, { timetosend: utc(now + 4_000) });
      // Delayed job in 4 s → now.
      const [soonToNow] = await add(alice, device.deviceId, 1, { timetosend: utc(now + 4_000) });
      const base = Date.now();
      const targets = new Map([
        [farToSoon, base + 3_000],
        [soonToLater, base + 4_500],
        [soonToFar, base + 9_000],
        [soonToNow, base],
      ]);
      const answers = await Promise.all(
        [...targets].map(([id, at]) =>
          v1(alice, `${id}/reschedule`, { timetosend: id === soonToNow ? '0' : new Date(at).toISOString() }),
        ),
      );
      expect(answers.map((answer) => [answer.status, answer.body.error, answer.body.queued])).toEqual([
        [200, 0, true],
        [200, 0, true],
        [200, 0, false],
        [200, 0, true],
      ]);
      expect(answers[2].body.valid_until).toBe(new Date(base + 9_000 + 86_400_000).toISOString());
      await waitFor('all four at the phone', () => phones.ledger.received.length >= 4, 20_000).catch(
        async (error) => {
          const got = new Set(phones.ledger.received.map((entry) => entry.id));
          const missing = [...targets.keys()].filter((id) => !got.has(id));
          const rows = await system.query(
            `SELECT id, status, time_to_send, enqueued_at FROM messages WHERE id = ANY($1::bigint[])`,
            [missing],
          );
          throw new Error(`${(error as Error).message}: missing ${JSON.stringify(rows)}`);
        },
      );
      const lateness = [...targets].map(([id, at]) => {
        const received = phones.ledger.received.find((entry) => entry.id === id);
        return { id, early: received ? received.at < at - 50 : true, lateMs: (received?.at ?? 0) - at };
      });
      expect(lateness.filter((entry) => entry.early)).toEqual([]);
      expect(lateness.every((entry) => entry.lateMs < 1_500)).toBe(true);
      expect(phones.ledger.repeats).toBe(0);
      await waitFor(
        'all four delivered',
        async () => [...(await statuses([...targets.keys()])).values()].every((status) => status === 7),
        10_000,
      );
      reportFigure(
        'reschedule lateness at the phone',
        Object.fromEntries(lateness.map((l, n) => [`m${n}`, l.lateMs])),
      );
    } finally {
      phones.stop();
    }
  }, 40_000);

  it('a mark of an add that lands after a reschedule beyond the horizon leaves the row to the sweep', async () => {
    const phones = fleet(alice);
    const [device] = await phones.provision(1);
    const [id] = await add(alice, device.deviceId, 1, { timetosend: utc(Date.now() + 4_000) });
    const [{ time_to_send: added }] = await system.query<{ time_to_send: Date }>(
      `SELECT time_to_send FROM messages WHERE id = $1`,
      [id],
    );
    // The API's deferred mark of that add, held back: this marker's pool has one connection, held here.
    const db = new DataSource({ type: 'postgres', url: system.databaseUrl, poolSize: 1 });
    await db.initialize();
    const holder = db.createQueryRunner();
    await holder.connect();
    try {
      const marker = new EnqueuedMarker(db);
      marker.mark([{ id, timeToSend: added }]);
      const answer = await v1(alice, `${id}/reschedule`, {
        timetosend: new Date(Date.now() + HORIZON_SECONDS * 1_000 + 3_000).toISOString(),
      });
      expect([answer.status, answer.body.queued]).toEqual([200, false]);
      await holder.release();
      await marker.drain();
    } finally {
      if (!holder.isReleased) await holder.release();
      await db.destroy();
    }
    const [row] = await system.query<{ marked: boolean }>(
      `SELECT enqueued_at IS NOT NULL AS marked FROM messages WHERE id = $1`,
      [id],
    );
    expect({ marked: row.marked, job: (await jobStates(device.deviceId, [id]))[0] }).toEqual({
      marked: false,
      job: 'unknown',
    });
    // Left in the outbox, the sweep adds it when it comes within the horizon, and the phone gets it once.
    await phones.connectAll();
    try {
      await waitFor(
        'the rescheduled message delivered',
        async () => (await statuses([id])).get(id) === 7,
        20_000,
      );
      expect(phones.ledger.received.filter((entry) => entry.id === id)).toHaveLength(1);
    } finally {
      phones.stop();
    }
  }, 40_000);

  it('races cancels against phones taking the messages: each ends once, cancelled (never received) or delivered', async () => {
    const COUNT = 1_000;
    const phones = fleet(alice, 5);
    const [socketDevice] = await phones.provision(1);
    const socketIds = await add(alice, socketDevice.deviceId, COUNT);
    const { apps, ledger: appLedger } = await startApps(system, alice, 1);
    const appIds = await add(alice, apps[0].deviceId, 200);
    const all = [...socketIds, ...appIds];
    const answered = new Map<number, string>();
    const started = Date.now();
    await phones.connectAll();
    try {
      await waitFor('sending under way', () => phones.ledger.received.length >= 50, 20_000);
      // Cancels of every message at once, in chunks of 50 in random order, while the phones take them.
      const shuffled = [...all].sort(() => Math.random() - 0.5);
      const chunks = Array.from({ length: Math.ceil(shuffled.length / 50) }, (_, n) =>
        shuffled.slice(n * 50, n * 50 + 50),
      );
      const answers = await Promise.all(chunks.map((ids) => v1(alice, 'cancel', { ids })));
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        for (const result of answer.body.results as Array<{ id: number; result: string }>)
          answered.set(result.id, result.result);
      }
      await waitFor(
        'every message final',
        async () => [...(await statuses(all)).values()].every((status) => status === 205 || status === 7),
        30_000,
      );
      const final = await statuses(all);
      const received = new Set([...phones.ledger.received, ...appLedger.received].map((entry) => entry.id));
      const cancelled = all.filter((id) => final.get(id) === 205);
      const delivered = all.filter((id) => final.get(id) === 7);
      expect(cancelled.length + delivered.length).toBe(all.length);
      // A cancelled message never reached a phone; the answer said what happened.
      expect(cancelled.filter((id) => received.has(id))).toEqual([]);
      expect(cancelled.filter((id) => answered.get(id) !== 'cancelled')).toEqual([]);
      expect(delivered.filter((id) => answered.get(id) === 'cancelled')).toEqual([]);
      expect(delivered.filter((id) => !received.has(id))).toEqual([]);
      // The race was real: both sides won some, on both kinds of phone.
      expect(cancelled.length).toBeGreaterThan(0);
      expect(delivered.length).toBeGreaterThan(50);
      expect(appIds.some((id) => final.get(id) === 205)).toBe(true);
      expect(appIds.some((id) => final.get(id) === 7)).toBe(true);
      reportFigure('cancel race', {
        messages: all.length,
        cancelled: cancelled.length,
        delivered: delivered.length,
        answeredTaken: [...answered.values()].filter((r) => r === 'taken').length,
        ms: Date.now() - started,
      });
      // The earlier cases left messages waiting for phones that never came: they end too (cancelled).
      const leftovers = await system.query<{ id: string }>(`SELECT id FROM messages WHERE status IN (1, 3)`);
      for (let start = 0; start < leftovers.length; start += 1_000) {
        const ids = leftovers.slice(start, start + 1_000).map((row) => Number(row.id));
        expect((await v1(alice, 'cancel', { ids })).body.cancelled).toBe(ids.length);
      }
      const dir = mkdtempSync(join(tmpdir(), 'smsfleet-cancel-'));
      try {
        const file = join(dir, 'phone.jsonl');
        writePhoneLedger(file, [...ledgers, appLedger]);
        const check = system.cliResult('check', '--settled', '--phone-ledger', file);
        expect(check.stdout).toMatch(/^L5 ok .*claimsNotSent=0/m);
        expect(check.stdout).toMatch(/^L6 ok /m);
        const failing = check.stdout
          .split('\n')
          .filter((line) => /^L\d+ /.test(line) && !/^L\d+ ok /.test(line));
        expect(failing).toEqual([]);
        expect(check.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      phones.stop();
      for (const app of apps) app.stop();
    }
  }, 60_000);
});
