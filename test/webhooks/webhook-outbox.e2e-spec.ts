import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  claimDueDeliveries,
  dropDatabase,
  purgeEndedWebhookEvents,
  recordDelivered,
  recordDeliveredMany,
  recordFailedAttempt,
  recordFailedAttempts,
  recordWebhookEvents,
  releaseDeliveries,
  renewLeases,
  runMigrations,
} from '@smsfleet/persistence';
import { deviceEvent, messageEvent, WebhookEvent, WebhookMessageRow } from '@smsfleet/webhooks';

/**
 * The outbox against a real PostgreSQL: the fan-out of recordWebhookEvents (filters by account, event type
 * and device; unmatched events not stored) and the worker's claim (order per message per subscription,
 * leases, and two connections claiming at once never taking the same delivery), the batched bookkeeping,
 * and retention.
 */
const BASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('webhook outbox (recordWebhookEvents and the claim)', () => {
  const url = new URL(BASE);
  url.pathname = `/smsfleet_test_outbox_${randomBytes(4).toString('hex')}`;
  const databaseUrl = url.toString();
  let db: Client;
  let other: Client;
  let alice: number;
  let bob: number;
  let aliceDevice: number;
  let aliceOtherDevice: number;

  beforeAll(async () => {
    await runMigrations(databaseUrl);
    db = new Client({ connectionString: databaseUrl });
    other = new Client({ connectionString: databaseUrl });
    await Promise.all([db.connect(), other.connect()]);
    [alice, bob] = await Promise.all(
      ['alice', 'bob'].map(async (name) => {
        const { rows } = await db.query<{ id: number }>(
          `INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`,
          [`${name}@example.com`],
        );
        return rows[0].id;
      }),
    );
    const device = async (user: number) =>
      (
        await db.query<{ id: number }>(
          `INSERT INTO devices (user_id, secret_hash) VALUES ($1, repeat('0', 64)) RETURNING id`,
          [user],
        )
      ).rows[0].id;
    aliceDevice = await device(alice);
    aliceOtherDevice = await device(alice);
  });

  afterAll(async () => {
    await Promise.all([db?.end(), other?.end()]);
    await dropDatabase(databaseUrl);
  });

  beforeEach(async () => {
    await db.query(`TRUNCATE webhook_deliveries, webhook_events, webhooks`);
  });

  const subscribe = async (user: number, events: string[], deviceIds: number[] | null = null) =>
    (
      await db.query<{ id: number }>(
        `INSERT INTO webhooks (user_id, url, events, device_ids, secret)
         VALUES ($1, 'https://example.com/hook', $2, $3, 'whsec_x') RETURNING id`,
        [user, events, deviceIds],
      )
    ).rows[0].id;

  let nextMessage = 1;
  const row = (status: number, deviceId: number, id = nextMessage++): WebhookMessageRow => ({
    id,
    sendto: '+4915700000001',
    body: 'hi',
    customer_id: 7,
    status,
    status_error: null,
    device_id: deviceId,
    sim: 0,
    urgent: false,
    created_at: new Date('2026-03-01T10:00:00Z'),
    time_to_send: new Date('2026-03-01T10:00:00Z'),
    taken_at: null,
    sent_at: null,
    delivered_at: null,
    failed_at: null,
    newsletter_id: null,
    newsletter_title: null,
    newsletter_body: null,
  });
  const event = (user: number, status: number, deviceId: number, messageId?: number) =>
    messageEvent(row(status, deviceId, messageId), user, new Date()) as WebhookEvent;

  it('fans events out by account, event type and device filter; unmatched events are not stored', async () => {
    const all = await subscribe(alice, ['message.sent', 'message.delivered']);
    const filtered = await subscribe(alice, ['message.sent', 'device.online'], [aliceOtherDevice]);
    const bobs = await subscribe(bob, ['message.sent']);
    const events = [
      event(alice, 6, aliceDevice), // all
      event(alice, 6, aliceOtherDevice), // all + filtered
      event(alice, 7, aliceOtherDevice), // all
      event(alice, 2, aliceDevice), // nobody wants message.taken
      deviceEvent(true, { id: aliceOtherDevice, title: 'p', lastSeen: new Date() }, alice, new Date()), // filtered
      event(bob, 6, aliceDevice), // bob's
    ];
    const created = await db.query('BEGIN').then(async () => {
      const count = await recordWebhookEvents(db, events);
      await db.query('COMMIT');
      return count;
    });
    expect(created).toBe(6);
    const { rows } = await db.query<{ webhook_id: number; event_id: string }>(
      `SELECT webhook_id, event_id FROM webhook_deliveries ORDER BY id`,
    );
    const ids = events.map((e) => e.id);
    expect(rows.map((r) => [r.webhook_id, ids.indexOf(r.event_id)])).toEqual([
      [all, 0],
      [all, 1],
      [filtered, 1],
      [all, 2],
      [filtered, 4],
      [bobs, 5],
    ]);
    const stored = await db.query<{ id: string; payload: string }>(
      `SELECT id, payload::text AS payload FROM webhook_events ORDER BY occurred_at`,
    );
    expect(stored.rows.map((r) => r.id).sort()).toEqual([ids[0], ids[1], ids[2], ids[4], ids[5]].sort());
    // The body sent is the envelope's text as written.
    const first = stored.rows.find((r) => r.id === ids[0]);
    expect(first?.payload).toBe(JSON.stringify(events[0]));
  });

  it('a rolled-back transaction leaves neither events nor deliveries', async () => {
    await subscribe(alice, ['message.sent']);
    await db.query('BEGIN');
    await recordWebhookEvents(db, [event(alice, 6, aliceDevice)]);
    await db.query('ROLLBACK');
    const { rows } = await db.query(
      `SELECT 1 FROM webhook_events UNION ALL SELECT 1 FROM webhook_deliveries`,
    );
    expect(rows).toEqual([]);
  });

  it('claims a message’s deliveries to one subscription one at a time, in order', async () => {
    const hook = await subscribe(alice, ['message.taken', 'message.sent', 'message.delivered']);
    const message = nextMessage++;
    const [taken, sent, delivered] = [2, 6, 7].map((status) => event(alice, status, aliceDevice, message));
    const unrelated = event(alice, 6, aliceDevice);
    await recordWebhookEvents(db, [taken, sent, delivered, unrelated]);

    const first = await claimDueDeliveries(db, 10, 60);
    expect(first.map((d) => d.event_id).sort()).toEqual([taken.id, unrelated.id].sort());
    expect(first.find((d) => d.event_id === taken.id)?.body).toBe(JSON.stringify(taken));
    // Leased: not claimed again, and the next of the message still waits.
    expect(await claimDueDeliveries(db, 10, 60)).toEqual([]);

    const takenDelivery = first.find((d) => d.event_id === taken.id)!;
    // A failure with a retry later keeps holding the message's next event back.
    await recordFailedAttempt(
      db,
      {
        deliveryId: takenDelivery.id,
        leaseToken: takenDelivery.lease_token,
        webhookId: hook,
        statusCode: 500,
        latencyMs: 3,
        error: 'HTTP 500',
      },
      new Date(Date.now() + 60_000),
    );
    expect(await claimDueDeliveries(db, 10, 60)).toEqual([]);
    await db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = $1`, [takenDelivery.id]);
    const retried = await claimDueDeliveries(db, 10, 60);
    expect(retried.map((d) => [d.event_id, d.attempts])).toEqual([[taken.id, 1]]);
    await recordDelivered(db, {
      deliveryId: takenDelivery.id,
      leaseToken: retried[0].lease_token,
      webhookId: hook,
      statusCode: 200,
      latencyMs: 2,
    });
    expect((await claimDueDeliveries(db, 10, 60)).map((d) => d.event_id)).toEqual([sent.id]);
  });

  it('a given-up delivery no longer holds the message back; paused subscriptions wait', async () => {
    const hook = await subscribe(alice, ['message.taken', 'message.sent']);
    const message = nextMessage++;
    const [taken, sent] = [2, 6].map((status) => event(alice, status, aliceDevice, message));
    await recordWebhookEvents(db, [taken, sent]);
    const [claimed] = await claimDueDeliveries(db, 10, 60);
    await recordFailedAttempt(
      db,
      { deliveryId: claimed.id, leaseToken: claimed.lease_token, webhookId: hook, latencyMs: 1, error: 'x' },
      null,
    );
    await db.query(`UPDATE webhooks SET paused = true WHERE id = $1`, [hook]);
    expect(await claimDueDeliveries(db, 10, 60)).toEqual([]);
    await db.query(`UPDATE webhooks SET paused = false WHERE id = $1`, [hook]);
    expect((await claimDueDeliveries(db, 10, 60)).map((d) => d.event_id)).toEqual([sent.id]);
    const { rows } = await db.query(`SELECT status FROM webhook_deliveries WHERE event_id = $1`, [taken.id]);
    expect(rows).toEqual([{ status: 'dead' }]);
  });

  it('two connections claiming at once never take the same delivery, and together take them all', async () => {
    await subscribe(alice, ['message.sent']);
    const events = Array.from({ length: 400 }, () => event(alice, 6, aliceDevice));
    await recordWebhookEvents(db, events);
    const taken: string[][] = [[], []];
    await Promise.all(
      [db, other].map(async (connection, lane) => {
        for (;;) {
          const claimed = await claimDueDeliveries(connection, 7, 60);
          if (claimed.length === 0) return;
          taken[lane].push(...claimed.map((d) => d.event_id));
        }
      }),
    );
    const everything = [...taken[0], ...taken[1]];
    expect(taken[0].length).toBeGreaterThan(0);
    expect(taken[1].length).toBeGreaterThan(0);
    expect(new Set(everything).size).toBe(everything.length);
    expect(everything.sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('an expired lease is claimed again with the same event id (a worker killed mid-send)', async () => {
    await subscribe(alice, ['message.sent']);
    const sent = event(alice, 6, aliceDevice);
    await recordWebhookEvents(db, [sent]);
    expect((await claimDueDeliveries(db, 10, 60)).map((d) => d.event_id)).toEqual([sent.id]);
    await db.query(`UPDATE webhook_deliveries SET lease_until = now() - interval '1 second'`);
    expect((await claimDueDeliveries(db, 10, 60)).map((d) => d.event_id)).toEqual([sent.id]);
  });

  it('writes made after a lease was taken over change nothing: no third claim while its holder sends', async () => {
    const hook = await subscribe(alice, ['message.sent']);
    const sent = event(alice, 6, aliceDevice);
    await recordWebhookEvents(db, [sent]);
    const [stale] = await claimDueDeliveries(db, 10, 60);
    // The interleaving a stalled worker makes: its lease ends, another claim takes the delivery and sends
    // it, and only then do the stalled worker's give-back and outcome reach PostgreSQL.
    await db.query(`UPDATE webhook_deliveries SET lease_until = now() - interval '1 second'`);
    const [holder] = await claimDueDeliveries(db, 10, 60);
    expect(holder.id).toBe(stale.id);
    expect(holder.lease_token).not.toBe(stale.lease_token);
    const late = { deliveryId: stale.id, leaseToken: stale.lease_token, webhookId: hook, latencyMs: 1 };

    await releaseDeliveries(db, [late]);
    await recordFailedAttempts(db, [{ ...late, statusCode: 500, error: 'HTTP 500', retryAt: new Date() }]);
    expect(await renewLeases(db, [late], 60)).toEqual(new Set());
    // Freed or marked due again, it would be claimed (and sent) a third time while the holder sends.
    expect(await claimDueDeliveries(db, 10, 60)).toEqual([]);
    expect(await recordDeliveredMany(db, [late])).toEqual([false]);
    const during = await db.query(
      `SELECT status, attempts, lease_token, lease_until > now() AS leased FROM webhook_deliveries`,
    );
    expect(during.rows).toEqual([
      { status: 'pending', attempts: 0, lease_token: holder.lease_token, leased: true },
    ]);

    // The holder's own writes apply: renewed, then recorded once.
    const mine = { ...late, leaseToken: holder.lease_token };
    expect(await renewLeases(db, [mine], 60)).toEqual(new Set([String(holder.id)]));
    expect(await recordDeliveredMany(db, [{ ...mine, statusCode: 204 }])).toEqual([true]);
    const after = await db.query(`SELECT status, attempts, lease_token FROM webhook_deliveries`);
    expect(after.rows).toEqual([{ status: 'delivered', attempts: 1, lease_token: null }]);
  });

  it('an outcome being written holds its delivery: the next chunk’s claim skips it, then finds it done', async () => {
    const hook = await subscribe(alice, ['message.sent']);
    const sent = event(alice, 6, aliceDevice);
    await recordWebhookEvents(db, [sent]);
    const [claimed] = await claimDueDeliveries(db, 10, 60);
    const attempt = {
      deliveryId: claimed.id,
      leaseToken: claimed.lease_token,
      webhookId: hook,
      latencyMs: 1,
    };
    // The 2xx written but not committed when the next claim runs, with the lease already ended: the
    // worst case for the claim, which must neither take the row nor wait for it.
    await db.query(`UPDATE webhook_deliveries SET lease_until = now() - interval '1 second'`);
    await other.query('BEGIN');
    try {
      expect(await recordDeliveredMany(other, [{ ...attempt, statusCode: 204 }])).toEqual([true]);
      expect(await claimDueDeliveries(db, 10, 60)).toEqual([]);
    } finally {
      await other.query('COMMIT');
    }
    expect(await claimDueDeliveries(db, 10, 60)).toEqual([]);
    const { rows } = await db.query(`SELECT status, attempts FROM webhook_deliveries`);
    expect(rows).toEqual([{ status: 'delivered', attempts: 1 }]);
  });

  it('a chunk holds only the first undelivered event of each message; outcomes are recorded in one statement', async () => {
    const hook = await subscribe(alice, ['message.taken', 'message.sent']);
    const messages = Array.from({ length: 30 }, () => nextMessage++);
    const taken = messages.map((m) => event(alice, 2, aliceDevice, m));
    const sent = messages.map((m) => event(alice, 6, aliceDevice, m));
    await recordWebhookEvents(db, [...taken, ...sent]);
    const chunk = await claimDueDeliveries(db, 100, 60);
    expect(chunk.map((d) => d.event_id).sort()).toEqual(taken.map((e) => e.id).sort());
    // Half delivered, half failed (a retry later), a failure given up: each row gets its own outcome.
    const [ok, failing] = [chunk.slice(0, 15), chunk.slice(15)];
    await recordDeliveredMany(
      db,
      ok.map((d, i) => ({
        deliveryId: d.id,
        leaseToken: d.lease_token,
        webhookId: hook,
        statusCode: 200 + i,
        latencyMs: i,
      })),
    );
    const since = await recordFailedAttempts(
      db,
      failing.map((d, i) => ({
        deliveryId: d.id,
        leaseToken: d.lease_token,
        webhookId: hook,
        statusCode: 500,
        latencyMs: 1,
        error: `HTTP 500 #${i}`,
        retryAt: i === 0 ? null : new Date(Date.now() + 60_000),
      })),
    );
    expect(since).toHaveLength(15);
    expect(new Set(since.map((d) => d.getTime())).size).toBe(1);
    const rows = (
      await db.query<{
        id: string;
        status: string;
        attempts: number;
        last_status_code: number;
        last_error: string;
      }>(
        `SELECT id, status, attempts, last_status_code, last_error FROM webhook_deliveries
          WHERE id = ANY ($1::bigint[]) ORDER BY id`,
        [chunk.map((d) => d.id)],
      )
    ).rows;
    const byId = new Map(rows.map((r) => [r.id, r]));
    ok.forEach((d, i) =>
      expect(byId.get(d.id)).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 + i }),
    );
    failing.forEach((d, i) =>
      expect(byId.get(d.id)).toMatchObject({
        status: i === 0 ? 'dead' : 'failed',
        attempts: 1,
        last_error: `HTTP 500 #${i}`,
      }),
    );
    // The next chunk: the sent events of the delivered messages, and of the given-up one; the 14 waiting
    // for a retry still hold theirs back.
    const next = await claimDueDeliveries(db, 100, 60);
    const expected = [...ok, failing[0]].map((d) => sent[taken.findIndex((e) => e.id === d.event_id)].id);
    expect(next.map((d) => d.event_id).sort()).toEqual(expected.sort());
    const hookRow = await db.query(`SELECT failing_since FROM webhooks WHERE id = $1`, [hook]);
    expect(hookRow.rows[0].failing_since).toEqual(since[0]);
    await recordDeliveredMany(db, [
      {
        deliveryId: next[0].id,
        leaseToken: next[0].lease_token,
        webhookId: hook,
        statusCode: 204,
        latencyMs: 1,
      },
    ]);
    const recovered = await db.query(`SELECT failing_since FROM webhooks WHERE id = $1`, [hook]);
    expect(recovered.rows[0].failing_since).toBeNull();
  });

  it('retention deletes ended events past the period with their deliveries, never undelivered ones', async () => {
    const hook = await subscribe(alice, ['message.sent', 'message.delivered']);
    const other = await subscribe(alice, ['message.sent']);
    const delivered = event(alice, 7, aliceDevice); // only `hook`: delivered
    const mixed = event(alice, 6, aliceDevice); // both: one delivered, one pending
    const dead = event(alice, 7, aliceDevice); // given up
    const recent = event(alice, 7, aliceDevice); // delivered, but within the period
    await recordWebhookEvents(db, [delivered, mixed, dead, recent]);
    await db.query(
      `UPDATE webhook_deliveries d SET status = CASE WHEN d.event_id = $2 THEN 'dead' ELSE 'delivered' END
        WHERE d.event_id <> $1 OR d.webhook_id = $3`,
      [mixed.id, dead.id, hook],
    );
    await db.query(`UPDATE webhook_events SET created_at = now() - interval '8 days' WHERE id <> $1`, [
      recent.id,
    ]);
    const week = 7 * 86_400;
    // A batch of one, then the rest: batches are honoured, and undelivered ones never counted.
    expect(await purgeEndedWebhookEvents(db, week, 1)).toBe(1);
    expect(await purgeEndedWebhookEvents(db, week, 100)).toBe(1);
    expect(await purgeEndedWebhookEvents(db, week, 100)).toBe(0);
    const events = await db.query<{ id: string }>(`SELECT id FROM webhook_events`);
    expect(events.rows.map((r) => r.id).sort()).toEqual([mixed.id, recent.id].sort());
    const deliveries = await db.query<{ event_id: string; webhook_id: number; status: string }>(
      `SELECT event_id, webhook_id, status FROM webhook_deliveries ORDER BY id`,
    );
    expect(deliveries.rows.map((r) => [r.event_id, r.webhook_id, r.status])).toEqual([
      [mixed.id, hook, 'delivered'],
      [mixed.id, other, 'pending'],
      [recent.id, hook, 'delivered'],
    ]);
    // Once its last delivery ends, the old event goes too.
    await db.query(`UPDATE webhook_deliveries SET status = 'delivered' WHERE event_id = $1`, [mixed.id]);
    expect(await purgeEndedWebhookEvents(db, week, 100)).toBe(1);
    expect(await purgeEndedWebhookEvents(db, 60, 100)).toBe(0);
  });
});
