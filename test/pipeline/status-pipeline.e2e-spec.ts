import { Client } from 'pg';
import { DeviceEvent, IncomingAck, SmsPayload, StatusAck } from '@smsfleet/contracts';
import { registerPhone } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { connectDevice } from '../helpers/device-socket';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

describe('status pipeline and one session per phone across dispatcher nodes', () => {
  let system: TestSystem;
  let account: Account;

  beforeAll(async () => {
    system = await TestSystem.start();
    await system.startApp('dispatcher', 'dispatcher-b');
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
  });

  async function sendOne(deviceId: number): Promise<number> {
    const answer = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982212',
      body: 'status test',
      device_id: deviceId,
    });
    return answer.body.sms_id as number;
  }

  async function insertInbox(
    rows: Array<{ messageId: number; deviceId: number; status: number; at: string; error?: string }>,
  ): Promise<void> {
    await system.query(
      `INSERT INTO status_inbox (message_id, device_id, status, at, error)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::smallint[], $4::timestamptz[], $5::text[])`,
      [
        rows.map((r) => r.messageId),
        rows.map((r) => r.deviceId),
        rows.map((r) => r.status),
        rows.map((r) => r.at),
        rows.map((r) => r.error ?? null),
      ],
    );
  }

  async function inboxSize(): Promise<number> {
    return (await system.query<{ n: number }>('SELECT count(*)::int AS n FROM status_inbox'))[0].n;
  }

  async function history(id: number) {
    return system.query<{ status: number; at: Date }>(
      'SELECT status, at FROM message_events WHERE message_id = $1 ORDER BY status',
      [id],
    );
  }

  it('records each report once, whatever the repeats and the order, and never moves a message backwards', async () => {
    const phone = await registerPhone(system.apiUrl, account.email, account.password, 'raw');
    const received: SmsPayload[] = [];
    const socket = await connectDevice(system.dispatcherUrl, phone, (payload) => received.push(payload));
    try {
      const [a, b] = [await sendOne(phone.deviceId), await sendOne(phone.deviceId)];
      await waitFor('both at the phone', () => received.length >= 2);
      const report = (items: unknown) =>
        socket.timeout(5_000).emitWithAck('status', items) as Promise<StatusAck>;
      const at = (offset: number) => new Date(Date.now() + offset).toISOString();
      // a: delivered arrives first, then sent (late), then delivered again, in separate events.
      const delivered = [at(2_000), at(3_000)];
      expect(await report({ id: a, status: 7, at: delivered[0] })).toEqual({ ok: true });
      expect(await report({ id: a, status: 6, at: at(1_000) })).toEqual({ ok: true });
      expect(await report({ id: a, status: 7, at: delivered[1] })).toEqual({ ok: true });
      // b: one event with repeats and a failure after the delivery (the first final word wins).
      expect(
        await report([
          { id: b, status: 6, at: at(1_000) },
          { id: b, status: 6, at: at(1_500) },
          { id: b, status: 7, at: at(2_000) },
          { id: b, status: 8, at: at(2_500) },
        ]),
      ).toEqual({ ok: true });
      const rows = await waitFor('both final', async () => {
        const found = await system.query<{ id: string; status: number; delivered_at: Date; sent_at: Date }>(
          'SELECT id, status, sent_at, delivered_at FROM messages WHERE id = ANY($1) ORDER BY id',
          [[a, b]],
        );
        return found.every((row) => row.status === 7) && (await history(a)).length === 3 ? found : undefined;
      });
      expect(rows.map((row) => row.status)).toEqual([7, 7]);
      expect((await history(a)).map((event) => event.status)).toEqual([2, 6, 7]);
      // One of the two "delivered" reports is kept, and the message's delivery time agrees with it.
      const kept = (await history(a))[2].at.toISOString();
      expect(delivered).toContain(kept);
      expect(rows[0].delivered_at.toISOString()).toBe(kept);
      // b's history keeps what the phone said (8 included) but the message stays delivered.
      expect((await history(b)).map((event) => event.status)).toEqual([2, 6, 7, 8]);
      const status = await getdata(system.apiUrl, 'getsmsstatus', { token: account.token, sms_id: a });
      expect(status.body).toMatchObject({ status: 7, status_description: 'Delivered' });
      // Reports for a message of another device change nothing.
      const other = await registerPhone(system.apiUrl, account.email, account.password, 'other');
      const otherId = await sendOne(other.deviceId);
      expect(await report({ id: otherId, status: 7, at: at(0) })).toEqual({ ok: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await history(otherId)).toEqual([]);
    } finally {
      socket.disconnect();
    }
  });

  it("commits a message's reports in the order the phone sent them, even while the first one's INSERT waits", async () => {
    const phone = await registerPhone(system.apiUrl, account.email, account.password, 'in-order');
    const received: SmsPayload[] = [];
    const socket = await connectDevice(system.dispatcherUrl, phone, (payload) => received.push(payload));
    // Holds the status inbox key the next report will take, uncommitted: the dispatcher's INSERT of that
    // report waits on it, as one does behind a slow or dying transaction, and the next INSERT is free.
    const blocker = new Client({ connectionString: system.databaseUrl });
    blocker.on('error', () => undefined);
    await blocker.connect();
    try {
      const id = await sendOne(phone.deviceId);
      await waitFor('taken recorded', async () => {
        const [row] = await system.query<{ taken: boolean }>(
          `SELECT taken_at IS NOT NULL AS taken FROM messages WHERE id = $1`,
          [id],
        );
        return row.taken && (await inboxSize()) === 0;
      });
      await blocker.query('BEGIN');
      const [{ next }] = (
        await blocker.query<{ next: string }>(
          `SELECT nextval(pg_get_serial_sequence('status_inbox', 'id')) + 1 AS next`,
        )
      ).rows;
      await blocker.query(
        `INSERT INTO status_inbox (message_id, id, device_id, status, at) OVERRIDING SYSTEM VALUE
         VALUES ($1, $2, $3, 6, now())`,
        [id, next, phone.deviceId],
      );
      const acks: number[] = [];
      const report = (status: number) => {
        const answered = (
          socket.timeout(30_000).emitWithAck(DeviceEvent.status, {
            id,
            status,
            at: new Date().toISOString(),
          }) as Promise<StatusAck>
        ).then((answer) => {
          acks.push(status);
          return answer;
        });
        // Awaited below; a failure before that must not surface as an unhandled rejection as well.
        answered.catch(() => undefined);
        return answered;
      };
      const sent = report(6);
      await waitFor('the sent report waiting', async () => {
        const waiting = await system.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
              AND query LIKE 'INSERT INTO status_inbox%'`,
        );
        return waiting.length > 0;
      });
      const delivered = report(7);
      // Long enough for the dispatcher to commit a free INSERT and the status app to apply it.
      const aheadOfSent = async () =>
        (
          await system.query(
            `SELECT 1 FROM status_inbox WHERE message_id = $1 AND status = 7
             UNION ALL SELECT 1 FROM message_events WHERE message_id = $1 AND status = 7`,
            [id],
          )
        ).length > 0;
      for (let i = 0; i < 10; i++) {
        expect(await aheadOfSent()).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(acks).toEqual([]);
      await blocker.query('ROLLBACK');
      expect(await sent).toEqual({ ok: true });
      expect(await delivered).toEqual({ ok: true });
      expect(acks).toEqual([6, 7]);
      const recorded = await waitFor('every step recorded', async () => {
        const rows = await system.query<{ status: number }>(
          'SELECT status FROM message_events WHERE message_id = $1 ORDER BY id',
          [id],
        );
        return rows.length === 3 ? rows.map((row) => row.status) : undefined;
      });
      // In the order they happened, so their webhook events go out in it too.
      expect(recorded).toEqual([2, 6, 7]);
    } finally {
      await blocker.end();
      socket.disconnect();
    }
  });

  it('leaves a report in the inbox while an earlier one of its message is held by a stuck transaction', async () => {
    const phone = await registerPhone(system.apiUrl, account.email, account.password, 'held');
    const id = await sendOne(phone.deviceId);
    // The message's row locked: the lane that claims the sent report waits in its UPDATE, holding that
    // report, as a status app killed mid-batch does until PostgreSQL ends its transaction.
    const blocker = new Client({ connectionString: system.databaseUrl });
    blocker.on('error', () => undefined);
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM messages WHERE id = $1 FOR UPDATE', [id]);
      const at = new Date().toISOString();
      await insertInbox([{ messageId: id, deviceId: phone.deviceId, status: 6, at }]);
      const lanesWaiting = async () =>
        (
          await system.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                AND query LIKE 'WITH owned AS%'`,
          )
        ).length;
      await waitFor('a lane holding the sent report', async () => (await lanesWaiting()) > 0);
      await insertInbox([{ messageId: id, deviceId: phone.deviceId, status: 7, at }]);
      // The other lane keeps claiming; had it taken the delivered report, it would wait on the row too.
      for (let i = 0; i < 10; i++) {
        expect(await lanesWaiting()).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await history(id)).toEqual([]);
      await blocker.query('ROLLBACK');
      const recorded = await waitFor('both recorded', async () => {
        const rows = await system.query<{ status: number }>(
          'SELECT status FROM message_events WHERE message_id = $1 ORDER BY id',
          [id],
        );
        return rows.length === 2 ? rows.map((row) => row.status) : undefined;
      });
      expect(recorded).toEqual([6, 7]);
      await waitFor('inbox drained', async () => (await inboxSize()) === 0);
    } finally {
      await blocker.end();
    }
  });

  it('applies inbox rows of several devices together, each report checked against its own device', async () => {
    const first = await registerPhone(system.apiUrl, account.email, account.password, 'jobs-a');
    const second = await registerPhone(system.apiUrl, account.email, account.password, 'jobs-b');
    const [a, b, c] = [
      await sendOne(first.deviceId),
      await sendOne(second.deviceId),
      await sendOne(first.deviceId),
    ];
    const at = new Date().toISOString();
    // What dispatchers commit before they ack (ADR 1801), in one statement as one of them would.
    await insertInbox([
      { messageId: a, deviceId: first.deviceId, status: 6, at },
      // b belongs to the second phone: claimed by the first, it changes nothing.
      { messageId: b, deviceId: first.deviceId, status: 8, at, error: 'not yours' },
      { messageId: b, deviceId: second.deviceId, status: 7, at },
      { messageId: c, deviceId: first.deviceId, status: 7, at },
    ]);
    const rows = await waitFor('every report written', async () => {
      const found = await system.query<{ id: string; status: number }>(
        'SELECT id, status FROM messages WHERE id = ANY($1) ORDER BY id',
        [[a, b, c]],
      );
      return found.every((row) => row.status >= 6) ? found : undefined;
    });
    expect(rows.map((row) => [Number(row.id), row.status])).toEqual([
      [a, 6],
      [b, 7],
      [c, 7],
    ]);
    expect((await history(b)).map((event) => event.status)).toEqual([7]);
    await waitFor('inbox drained', async () => (await inboxSize()) === 0);
  });

  it('leaves an SMS the phone received as it was, whatever the phone reports for its id', async () => {
    const phone = await registerPhone(system.apiUrl, account.email, account.password, 'receiver');
    const socket = await connectDevice(system.dispatcherUrl, phone);
    try {
      const stored = (await socket.timeout(5_000).emitWithAck(DeviceEvent.incoming, {
        from: '+4915752982212',
        body: 'hello',
        sim: 0,
        receivedAt: new Date().toISOString(),
      })) as IncomingAck;
      if (!stored.ok) throw new Error(`incoming refused: ${stored.error}`);
      const row = async () =>
        (
          await system.query(
            `SELECT status, status_error, sent_at, taken_at, delivered_at, failed_at FROM messages WHERE id = $1`,
            [stored.id],
          )
        )[0];
      const before = await row();
      expect(before).toMatchObject({ status: 5, delivered_at: null, failed_at: null });
      const at = new Date().toISOString();
      for (const status of [6, 7, 8])
        expect(
          await socket.timeout(5_000).emitWithAck(DeviceEvent.status, [{ id: stored.id, status, at }]),
        ).toEqual({ ok: true });
      await waitFor('inbox drained', async () => (await inboxSize()) === 0);
      expect(await row()).toEqual(before);
      expect(await history(stored.id)).toEqual([]);
    } finally {
      socket.disconnect();
    }
  });

  it("fills in enqueued_at when the API's mark was skipped: the dispatcher's taken time, or the writer's clock, never the phone's", async () => {
    const enqueuedAt = async (id: number) =>
      (
        await system.query<{ enqueued_at: Date | null; taken_at: Date | null }>(
          'SELECT enqueued_at, taken_at FROM messages WHERE id = $1',
          [id],
        )
      )[0];
    // What EnqueuedMarker leaves when the status writer holds the row at that moment (SKIP LOCKED). A
    // created_at ahead keeps the row from the outbox sweep (it waits 2 s for the API), which would mark it
    // too: only the status writer may fill it in here, however slow the machine.
    const unmarked = async (deviceId: number) => {
      const id = await sendOne(deviceId);
      await waitFor('marked by the API', async () => (await enqueuedAt(id)).enqueued_at !== null);
      await system.query(
        `UPDATE messages SET enqueued_at = NULL, created_at = now() + interval '1 hour' WHERE id = $1`,
        [id],
      );
      return id;
    };

    // Taken by a phone: the dispatcher's "taken" report fills it in.
    const phone = await registerPhone(system.apiUrl, account.email, account.password, 'unmarked');
    const taken = await unmarked(phone.deviceId);
    const received: SmsPayload[] = [];
    const socket = await connectDevice(system.dispatcherUrl, phone, (payload) => received.push(payload));
    try {
      const row = await waitFor('taken recorded', async () => {
        const found = await enqueuedAt(taken);
        return found.taken_at ? found : undefined;
      });
      expect(received.map((payload) => payload.id)).toEqual([taken]);
      expect(row.enqueued_at?.toISOString()).toBe(row.taken_at?.toISOString());
    } finally {
      socket.disconnect();
    }

    // A report with no taken time (here one whose phone clock is an hour behind): the writer's own clock.
    const offline = await registerPhone(system.apiUrl, account.email, account.password, 'unmarked-offline');
    const reported = await unmarked(offline.deviceId);
    const before = Date.now();
    const phoneClock = new Date(before - 3_600_000).toISOString();
    await insertInbox([{ messageId: reported, deviceId: offline.deviceId, status: 6, at: phoneClock }]);
    const row = await waitFor('sent recorded', async () => {
      const found = await enqueuedAt(reported);
      return found.enqueued_at ? found : undefined;
    });
    // Allowance for the database's clock against ours (same host).
    expect(row.enqueued_at!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
  });

  it('keeps one session per phone across nodes: the newer connection wins and owns the queue', async () => {
    const phone = await registerPhone(system.apiUrl, account.email, account.password, 'twice');
    const onA: number[] = [];
    const onB: number[] = [];
    const first = await connectDevice(system.dispatcherUrl, phone, (payload) => onA.push(payload.id));
    const firstClosed = new Promise<string>((resolve) => first.once('disconnect', resolve));
    const second = await connectDevice(system.url('dispatcher-b'), phone, (payload) => onB.push(payload.id));
    try {
      expect(await firstClosed).toBe('io server disconnect');
      const lease = await system.redis().get(`${system.redisPrefix}:lease:${phone.deviceId}`);
      expect(lease).toMatch(/^dispatcher-b-/);
      const ids = [await sendOne(phone.deviceId), await sendOne(phone.deviceId)];
      await waitFor('served by node B', () => onB.length >= 2);
      expect(onB).toEqual(ids);
      expect(onA).toEqual([]);
      expect(second.connected).toBe(true);
    } finally {
      first.disconnect();
      second.disconnect();
    }
  });
});
