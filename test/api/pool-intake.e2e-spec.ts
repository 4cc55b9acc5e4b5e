import fc from 'fast-check';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata, Json, postJson, v1Call } from '../helpers/api-client';
import { createPool, fleetFor, poolOnline, SILENT_ON_SILENT } from '../helpers/pools';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** Beyond it, a message waits in PostgreSQL and the outbox sweep routes it again when it comes near. */
const HORIZON_SECONDS = 3;
const LATER = '2099-01-01 10:00:00';

/**
 * Sending to a pool (`pool_id` on addsms and addalotofsms, ADR 2221 §2-§3, §5, §7) against the real API,
 * dispatcher, scheduler, PostgreSQL and Redis: routed to an online member that can send the slot, a batch
 * spread by load, exclusive with device_id, only the caller's pools with devices, bad values refused
 * whole, the outbox sweep routing a far-future message again, cancel by pool, and a deleted pool's
 * messages staying on their phones.
 */
describe('pool intake: addsms and addalotofsms with pool_id', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let fleet: SimulatedFleet;
  /** Alice's phones: the first three connect, the fourth never does. */
  let phones: number[];
  let bobPhone: number;
  let poolId: number;
  let bobPool: number;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher', 'scheduler'], {
      SCHEDULE_HORIZON_SECONDS: String(HORIZON_SECONDS),
      SCHEDULER_SWEEP_INTERVAL_MS: '300',
    });
    alice = system.createAccount();
    bob = system.createAccount();
    fleet = fleetFor(system, alice);
    phones = (await fleet.provision(4)).map((phone) => phone.deviceId);
    await Promise.all(fleet.phones.slice(0, 3).map((phone) => phone.connect()));
    [{ deviceId: bobPhone }] = await fleetFor(system, bob).provision(1);
    poolId = await createPool(system.apiUrl, alice, 'Shop', phones);
    bobPool = await createPool(system.apiUrl, bob, 'Bob', [bobPhone]);
    await waitFor(
      'three members online',
      async () => (await poolOnline(system.apiUrl, alice, poolId)) === 3,
      15_000,
    );
  }, 120_000);

  afterAll(async () => {
    fleet?.stop();
    await system?.stop();
  });

  const v1 = (account: Account, method: string, path: string, body?: unknown) =>
    v1Call(system.apiUrl, account, method, path, body);

  const rowsOf = (ids: number[]) =>
    system.query<{ id: string; device_id: number; pool_id: number | null; status: number }>(
      `SELECT id, device_id, pool_id, status FROM messages WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [ids],
    );
  const messageCount = async () =>
    (await system.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages`))[0].n;
  const bulk = (account: Account, smsdata: unknown[]) =>
    postJson(system.apiUrl, 'addalotofsms', { token: account.token, smsdata });
  /** timetosend as addsms reads it, in the account's zone (UTC for a new account). */
  const utcStamp = (at: Date) => at.toISOString().replace('T', ' ').slice(0, 19);
  const item = (extra: Json) => ({ sendto: '+4915752982212', body: 'pooled', ...extra });

  it('routes addsms to an online member; the row and the job say which pool', async () => {
    const sent = await getdata(system.apiUrl, 'addsms', { token: alice.token, ...item({ pool_id: poolId }) });
    expect(sent.body).toMatchObject({ error: 0, sms_id: expect.any(Number) });
    const id = sent.body.sms_id as number;
    const [row] = await rowsOf([id]);
    expect(phones.slice(0, 3)).toContain(row.device_id);
    expect(row.pool_id).toBe(poolId);
    await waitFor(
      'the chosen phone received it',
      () => fleet.ledger.received.some((entry) => entry.id === id && entry.deviceId === row.device_id),
      10_000,
    );

    // A message due in 2 s waits in its queue as a delayed job: its job carries the pool.
    const soon = await getdata(system.apiUrl, 'addsms', {
      token: alice.token,
      ...item({ pool_id: poolId, timetosend: utcStamp(new Date(Date.now() + 2_000)) }),
    });
    const soonId = soon.body.sms_id as number;
    const [soonRow] = await rowsOf([soonId]);
    const queue = new Queue(`device-${soonRow.device_id}`, {
      connection: system.redis(),
      prefix: system.redisPrefix,
      skipVersionCheck: true,
    });
    const job = await queue.getJob(`m${soonId}`);
    await queue.close();
    expect(job?.data).toMatchObject({ messageId: soonId, poolId });
  });

  it('spreads a batch over the least loaded online members and honours the SIM slot', async () => {
    const answer = await bulk(
      alice,
      Array.from({ length: 30 }, (_, n) => item({ pool_id: poolId, timetosend: LATER, customerid: 700 + n })),
    );
    expect(answer.body).toMatchObject({ error: 0, count: 30 });
    const rows = await rowsOf(answer.body.sms_ids as number[]);
    const perDevice = phones.map((device) => rows.filter((row) => row.device_id === device).length);
    expect(perDevice[3]).toBe(0); // offline
    // Loads differ by the few messages of the test before: the batch levels them out.
    for (const count of perDevice.slice(0, 3)) expect(count).toBeGreaterThanOrEqual(8);

    // Phone 1 sends SMS only (as an SMSGate app does): WhatsApp (sim 2) goes to the others.
    await system.query(`UPDATE devices SET send_slots = '{0,1}' WHERE id = $1`, [phones[0]]);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the routers' member cache
    const whatsapp = await bulk(
      alice,
      Array.from({ length: 6 }, () => item({ pool_id: poolId, sim: 2, timetosend: LATER })),
    );
    expect(whatsapp.body).toMatchObject({ error: 0, count: 6 });
    const slotRows = await rowsOf(whatsapp.body.sms_ids as number[]);
    expect(slotRows.map((row) => row.device_id)).not.toContain(phones[0]);
    expect(slotRows.every((row) => row.pool_id === poolId)).toBe(true);
  });

  it('refuses pool_id with device_id, another account pool and an empty pool, storing nothing', async () => {
    const before = await messageCount();
    const both = await getdata(system.apiUrl, 'addsms', {
      token: alice.token,
      ...item({ pool_id: poolId, device_id: phones[0] }),
    });
    expect(both.body).toMatchObject({
      error: 1,
      code: 'validation',
      message: expect.stringMatching(/^pool_id and device_id exclude each other/),
    });
    const foreign = await getdata(system.apiUrl, 'addsms', {
      token: alice.token,
      ...item({ pool_id: bobPool }),
    });
    expect(foreign.body).toMatchObject({
      error: 1,
      code: 'validation',
      message: `pool_id ${bobPool} not found among your pools`,
    });
    const empty = (await v1(alice, 'POST', '/v1/pools', { name: 'Empty' })).body.pool.id as number;
    const none = await getdata(system.apiUrl, 'addsms', { token: alice.token, ...item({ pool_id: empty }) });
    expect(none.body).toMatchObject({
      error: 1,
      code: 'validation',
      message: `pool_id ${empty} (Empty) has no devices; add some with POST /v1/pools/${empty}/devices`,
    });
    // A bulk with good items and bad ones: each bad one named, nothing of it stored.
    const mixed = await bulk(alice, [
      item({ device_id: phones[1] }),
      item({ pool_id: poolId }),
      item({ pool_id: bobPool }),
      item({ pool_id: poolId, device_id: phones[1] }),
      item({ pool_id: empty }),
    ]);
    expect(mixed.body).toMatchObject({ error: 1, code: 'validation' });
    expect((mixed.body.errors as Json[]).map((e) => [e.index, e.field])).toEqual([[3, 'pool_id']]);
    const pools = await bulk(alice, [
      item({ pool_id: poolId }),
      item({ pool_id: bobPool }),
      item({ pool_id: empty }),
    ]);
    expect(pools.body).toMatchObject({ error: 1, code: 'validation' });
    expect((pools.body.errors as Json[]).map((e) => [e.index, e.field, e.message])).toEqual([
      [1, 'pool_id', `pool_id ${bobPool} not found among your pools`],
      [2, 'pool_id', expect.stringMatching(/has no devices/)],
    ]);
    expect(await messageCount()).toBe(before);
    await v1(alice, 'DELETE', `/v1/pools/${empty}`);
  });

  it('answers a pool deleted between the check and the insert with the check’s error, storing nothing', async () => {
    const dora = system.createAccount();
    const doraFleet = fleetFor(system, dora, { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0 });
    const [{ deviceId }] = await doraFleet.provision(1);
    const doomed = await createPool(system.apiUrl, dora, 'Doomed', [deviceId]);
    const before = await messageCount();
    // The pool's deletion, not yet committed: the request's check still sees the pool and its member,
    // and its insert's foreign-key check waits for the deletion's lock.
    const deleter = new Client({ connectionString: system.databaseUrl });
    await deleter.connect();
    try {
      await deleter.query('BEGIN');
      await deleter.query('DELETE FROM pools WHERE id = $1', [doomed]);
      const sending = getdata(system.apiUrl, 'addsms', { token: dora.token, ...item({ pool_id: doomed }) });
      // The same with an Idempotency-Key: its key is claimed in the insert's transaction.
      const keyed = fetch(`${system.apiUrl}/getdata/addsms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'k-doomed' },
        body: JSON.stringify({ token: dora.token, ...item({ pool_id: doomed }) }),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as Json }));
      await waitFor('both inserts waiting for the deleted pool', async () => {
        const [{ n }] = await system.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO messages%'`,
        );
        return n === 2;
      });
      await deleter.query('COMMIT');
      const answer = await sending;
      expect(await keyed).toEqual(answer);
      // SmsGateway24's surface answers errors with HTTP 200; `code` says which (it was `internal`).
      expect(answer).toMatchObject({
        status: 200,
        body: { error: 1, code: 'validation', message: `pool_id ${doomed} not found among your pools` },
      });
    } finally {
      await deleter.end();
    }
    expect(await messageCount()).toBe(before);
    const [{ keys }] = await system.query<{ keys: number }>(
      `SELECT count(*)::int AS keys FROM idempotency_keys WHERE key = 'k-doomed'`,
    );
    expect(keys).toBe(0);
  });

  it('answers any bad pool_id with a clear 400 in the API format, never a 500, storing nothing', async () => {
    const before = await messageCount();
    const bad = fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: 1, max: 1 << 30 }).map((n) => n + 2_147_483_647),
      // Not NaN or ±Infinity: JSON writes them as null, which is no pool_id at all.
      fc.double().filter((n) => Number.isFinite(n) && !Number.isInteger(n)),
      fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^\s*\d*\s*$/.test(s)),
      fc.constantFrom('1e3', '0x10', '-1', '99999999999', ' 3 4'),
    );
    await fc.assert(
      fc.asyncProperty(
        bad,
        fc.constantFrom('get', 'json') as fc.Arbitrary<'get' | 'json'>,
        async (value, encoding) => {
          const answer = await getdata(
            system.apiUrl,
            'addsms',
            { token: alice.token, ...item({ pool_id: value as number }) },
            encoding,
          );
          expect(answer.status).toBe(200);
          expect(answer.body).toMatchObject({ error: 1, code: 'validation' });
          expect(answer.body.message).toMatch(/^pool_id must be (a whole number|between 1 and 2147483647)/);
        },
      ),
      { numRuns: 40 },
    );
    const inBulk = await bulk(alice, [
      item({ pool_id: 'x' }),
      item({ pool_id: [poolId] }),
      item({ pool_id: { id: 1 } }),
    ]);
    expect((inBulk.body.errors as Json[]).map((e) => e.field)).toEqual(['pool_id', 'pool_id', 'pool_id']);
    expect(await messageCount()).toBe(before);
  });

  it('routes a far-future message again when the sweep enqueues it: a member that left gets nothing', async () => {
    const due = new Date(Date.now() + (HORIZON_SECONDS + 3) * 1_000);
    const answer = await v1alice(due, 6);
    const ids = answer.body.sms_ids as number[];
    const first = await rowsOf(ids);
    // Phone 2 leaves the pool before the messages come within the horizon.
    const leaver = phones[1];
    await v1(alice, 'POST', `/v1/pools/${poolId}/devices/remove`, { device_ids: [leaver] });
    await waitFor(
      'every message sent',
      () => ids.every((id) => fleet.ledger.received.some((entry) => entry.id === id)),
      60_000,
    );
    const after = await rowsOf(ids);
    expect(after.map((row) => row.device_id)).not.toContain(leaver);
    for (const id of ids) {
      const row = after.find((r) => Number(r.id) === id)!;
      expect(fleet.ledger.received.filter((entry) => entry.id === id).map((e) => e.deviceId)).toEqual([
        row.device_id,
      ]);
    }
    // The routing at intake had used the leaver for some (the batch spreads): they moved.
    expect(first.some((row) => row.device_id === leaver)).toBe(true);
    await v1(alice, 'POST', `/v1/pools/${poolId}/devices`, { device_ids: [leaver] });
  });

  async function v1alice(due: Date, count: number) {
    const stamp = due.toISOString().replace('T', ' ').slice(0, 19);
    // timetosend is read in the account's zone (UTC for a new account).
    return bulk(
      alice,
      Array.from({ length: count }, () => item({ pool_id: poolId, timetosend: stamp })),
    );
  }

  it('refuses to reschedule or cancel a pool message a phone was sent, back in wait: it keeps its mark', async () => {
    const carol = system.createAccount();
    // A phone that crashes on "silent": emitted (marked), never acknowledged.
    const silentFleet = fleetFor(system, carol, SILENT_ON_SILENT);
    const [{ deviceId }] = await silentFleet.provision(1);
    const pool = await createPool(system.apiUrl, carol, 'Silent', [deviceId]);
    await silentFleet.connectAll();
    const queue = new Queue(`device-${deviceId}`, {
      connection: system.redis(),
      prefix: system.redisPrefix,
      skipVersionCheck: true,
    });
    const jobKey = (id: number) => `${system.redisPrefix}:device-${deviceId}:m${id}`;
    try {
      const sent = await getdata(system.apiUrl, 'addsms', {
        token: carol.token,
        ...item({ pool_id: pool, body: 'silent' }),
      });
      const id = sent.body.sms_id as number;
      await waitFor('the phone was sent it', () =>
        silentFleet.ledger.received.some((entry) => entry.id === id),
      );
      // The phone leaves without acking: the job goes back to wait, marked (the phone may have sent it).
      silentFleet.stop();
      await waitFor(
        'back in wait',
        async () => (await queue.getJobState(`m${id}`)) === 'prioritized',
        10_000,
      );
      expect(await system.redis().hget(jobKey(id), 'em')).toBe(String(deviceId));

      for (const timetosend of ['0', new Date(Date.now() + 3_600_000).toISOString()]) {
        const answer = await v1(carol, 'POST', `/v1/messages/${id}/reschedule`, { timetosend });
        expect([answer.status, answer.body.code]).toEqual([409, 'not_waiting']);
        expect(answer.body.message).toMatch(/was taken by a phone/);
      }
      const cancel = await v1(carol, 'POST', '/v1/messages/cancel', { ids: [id] });
      expect(cancel.body.results).toEqual([{ id, result: 'taken', status: 1 }]);
      // Nothing changed: the same job, still marked, still waiting for that phone alone.
      expect(await queue.getJobState(`m${id}`)).toBe('prioritized');
      expect(await system.redis().hget(jobKey(id), 'em')).toBe(String(deviceId));
      const [row] = await system.query<{ status: number; device_id: number; marked: boolean }>(
        `SELECT status, device_id, enqueued_at IS NOT NULL AS marked FROM messages WHERE id = $1`,
        [id],
      );
      expect(row).toEqual({ status: 1, device_id: deviceId, marked: true });
    } finally {
      silentFleet.stop();
      await queue.close();
    }
  });

  it('lists the messages sent to a pool in /v1/messages, each with its pool_id, only the caller’s', async () => {
    const pinned = (
      await getdata(system.apiUrl, 'addsms', { token: alice.token, ...item({ device_id: phones[0] }) })
    ).body.sms_id as number;
    const pooled = (
      await getdata(system.apiUrl, 'addsms', { token: alice.token, ...item({ pool_id: poolId }) })
    ).body.sms_id as number;
    const listed = await v1(alice, 'GET', `/v1/messages?pool_id=${poolId}&limit=500`);
    expect(listed.status).toBe(200);
    const messages = listed.body.messages as Json[];
    const [{ n }] = await system.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE pool_id = $1`,
      [poolId],
    );
    expect(messages).toHaveLength(n);
    expect(messages.map((message) => message.id)).toContain(pooled);
    expect(messages.every((message) => message.pool_id === poolId)).toBe(true);
    const all = (await v1(alice, 'GET', '/v1/messages?limit=500')).body.messages as Json[];
    expect(all.find((message) => message.id === pinned)).toMatchObject({
      pool_id: null,
      device_id: phones[0],
    });
    expect((await v1(alice, 'GET', `/v1/messages/${pooled}`)).body.sms).toMatchObject({ pool_id: poolId });
    // Another account's pool matches nothing of the caller's, and says nothing of the other's.
    expect((await v1(alice, 'GET', `/v1/messages?pool_id=${bobPool}`)).body).toMatchObject({
      error: 0,
      messages: [],
    });
    for (const bad of ['abc', '0', '-1', '99999999999'])
      expect(await v1(alice, 'GET', `/v1/messages?pool_id=${bad}`)).toMatchObject({
        status: 400,
        body: { error: 1, code: 'validation' },
      });
  });

  it('cancels by pool (only the pool messages, only the caller pool) and a deleted pool pins its messages', async () => {
    const pooled = (
      await bulk(
        alice,
        Array.from({ length: 4 }, () => item({ pool_id: poolId, timetosend: LATER })),
      )
    ).body.sms_ids as number[];
    const pinned = (await bulk(alice, [item({ device_id: phones[0], timetosend: LATER })])).body
      .sms_ids as number[];
    expect(await v1(bob, 'POST', '/v1/messages/cancel', { pool_id: poolId })).toMatchObject({
      status: 404,
      body: { error: 1, code: 'not_found', message: `pool ${poolId} not found among yours` },
    });
    const cancelled = await v1(alice, 'POST', '/v1/messages/cancel', { pool_id: poolId });
    expect(cancelled.status).toBe(200);
    const cancelledIds = (cancelled.body.results as Json[])
      .filter((r) => r.result === 'cancelled')
      .map((r) => r.id);
    expect(cancelledIds).toEqual(expect.arrayContaining(pooled));
    expect(cancelledIds).not.toContain(pinned[0]);
    expect((await rowsOf(pooled)).every((row) => row.status === 205)).toBe(true);
    expect((await rowsOf(pinned))[0].status).toBe(1);

    // A deleted pool's waiting messages stay on the phone they are on, pinned.
    const waiting = (await bulk(alice, [item({ pool_id: poolId, timetosend: LATER })])).body
      .sms_ids as number[];
    const [before] = await rowsOf(waiting);
    expect((await v1(alice, 'DELETE', `/v1/pools/${poolId}`)).status).toBe(200);
    const [after] = await rowsOf(waiting);
    expect(after).toMatchObject({ pool_id: null, device_id: before.device_id, status: 1 });
  });
});
