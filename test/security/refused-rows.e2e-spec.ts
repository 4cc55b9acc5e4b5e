import { Client } from 'pg';
import { Socket } from 'socket.io-client';
import { DeviceEvent, HelloAck, IncomingAck, MessageStatus, StatusAck } from '@smsfleet/contracts';
import { registerPhone, SimulatedFleet } from '../../tools/simulator/fleet';
import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { getdata } from '../helpers/api-client';
import { connectDevice } from '../helpers/device-socket';
import { checkSettled } from '../helpers/load-run';
import { scrape, valueOf } from '../helpers/prometheus-text';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/**
 * Issue 16, "one bad row never fails its neighbours" (ADR 1601). Input validation repairs what PostgreSQL
 * refuses as text, so this suite makes PostgreSQL refuse chosen values by triggers in its own database:
 * a status report refused by the inbox INSERT (dispatcher), one refused when applied (status app), a
 * hello and an incoming SMS. Tenant B's phone sends each in the same moment as tenant A's phones send
 * theirs. A's messages all reach 7 and its hello and SMS are stored; B's items are acknowledged, kept in
 * dead_letters with B's account, counted in the metrics; `cli check --settled` passes (L9 counts B's
 * refused reports as dead-lettered).
 */
describe('one refused row never fails its neighbours', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let bobId: number;
  const client: Array<{ status: number; ids: number[] }> = [];
  const sockets: Socket[] = [];
  let fleet: SimulatedFleet;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status'], {
      LOG_LEVEL: 'warn',
      // A window wide enough that events emitted together in this process share one INSERT.
      STATUS_INTAKE_BATCH_WAIT_MS: '50',
      STATUS_BATCH_WAIT_MS: '300',
    });
    alice = system.createAccount();
    bob = system.createAccount();
    [{ id: bobId }] = await system.query<{ id: number }>('SELECT id FROM users WHERE email = $1', [
      bob.email,
    ]);
    await system.query(`
      CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test''s trigger'; END $$;
      CREATE TRIGGER refuse_inbox BEFORE INSERT ON status_inbox FOR EACH ROW
        WHEN (NEW.error = 'refuse-inbox') EXECUTE FUNCTION refuse_for_test();
      CREATE TRIGGER refuse_apply BEFORE INSERT ON message_events FOR EACH ROW
        WHEN (NEW.error = 'refuse-apply') EXECUTE FUNCTION refuse_for_test();
      CREATE TRIGGER refuse_hello BEFORE UPDATE ON devices FOR EACH ROW
        WHEN (NEW.app_version = 'refuse-hello') EXECUTE FUNCTION refuse_for_test();
      CREATE TRIGGER refuse_incoming BEFORE INSERT ON messages FOR EACH ROW
        WHEN (NEW.status = 5 AND NEW.body = 'refuse-incoming') EXECUTE FUNCTION refuse_for_test();`);
    fleet = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: alice.email,
      password: alice.password,
      behaviour: { sendDelayMs: 20, deliveryDelayMs: 50, failureShare: 0 },
    });
    await fleet.provision(3);
    await fleet.connectAll();
  }, 120_000);

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    fleet?.stop();
    await system?.stop();
  });

  async function send(account: Account, deviceId: number, body = 'refused rows'): Promise<number> {
    const answer = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982212',
      body,
      device_id: deviceId,
    });
    const id = answer.body.sms_id as number;
    client.push({ status: answer.status, ids: [id] });
    return id;
  }

  async function rawPhone(account: Account, title: string) {
    const phone = await registerPhone(system.apiUrl, account.email, account.password, title);
    const received: number[] = [];
    const socket = await connectDevice(system.dispatcherUrl, phone, (payload) => received.push(payload.id));
    sockets.push(socket);
    return { ...phone, socket, received };
  }

  const report = (socket: Socket, items: unknown) =>
    socket.timeout(10_000).emitWithAck(DeviceEvent.status, items) as Promise<StatusAck>;
  const at = () => new Date().toISOString();

  async function deadLetters(kind: string) {
    return system.query<{
      device_id: number;
      account_id: number;
      payload: Record<string, unknown>;
      error: string;
    }>('SELECT device_id, account_id, payload, error FROM dead_letters WHERE kind = $1 ORDER BY id', [kind]);
  }

  async function metric(url: string, name: string, kind: string): Promise<number> {
    return valueOf(await scrape(url), name, { kind });
  }

  it('isolates a refused report, hello and incoming SMS of one tenant; the other keeps reaching 7', async () => {
    const a = await rawPhone(alice, 'alice raw');
    const b = await rawPhone(bob, 'bob raw');
    const ledgerA = new PhoneLedger();
    const ledgerB = new PhoneLedger();
    const [a1, a2] = [await send(alice, a.deviceId), await send(alice, a.deviceId)];
    const [b1, b2] = [await send(bob, b.deviceId), await send(bob, b.deviceId)];
    // Alice's fleet keeps reporting throughout.
    const fleetIds: number[] = [];
    for (let i = 0; i < 30; i++) fleetIds.push(await send(alice, fleet.phones[i % 3].deviceId));
    await waitFor(
      'each raw phone has its two messages',
      () => a.received.length >= 2 && b.received.length >= 2,
    );
    for (const id of [a1, a2]) ledgerA.sends.set(id, 1);
    for (const id of [b1, b2]) ledgerB.sends.set(id, 1);

    // Status reports: Bob's two poisoned ones and Alice's in the same moment, so in the same INSERT.
    const poisoned = [
      { id: b1, status: MessageStatus.NotDelivered, at: at(), error: 'refuse-inbox' },
      { id: b2, status: MessageStatus.NotDelivered, at: at(), error: 'refuse-apply' },
    ];
    const answers = await Promise.all([
      report(b.socket, poisoned[0]),
      report(a.socket, [
        { id: a1, status: MessageStatus.SentByPhone, at: at() },
        { id: a2, status: MessageStatus.SentByPhone, at: at() },
      ]),
      report(b.socket, poisoned[1]),
    ]);
    expect(answers).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    for (const { id, status } of poisoned) ledgerB.acked(id, status);
    for (const id of [a1, a2]) ledgerA.acked(id, MessageStatus.SentByPhone);
    const refusedReports = await waitFor('both refused reports dead-lettered', async () => {
      const rows = await deadLetters('status');
      return rows.length >= 2 ? rows : undefined;
    });
    expect(
      refusedReports.map((row) => [row.payload.messageId, row.payload.status, row.payload.error]),
    ).toEqual(
      expect.arrayContaining([
        [b1, MessageStatus.NotDelivered, 'refuse-inbox'],
        [b2, MessageStatus.NotDelivered, 'refuse-apply'],
      ]),
    );
    for (const row of refusedReports) {
      expect(row).toMatchObject({ device_id: b.deviceId, account_id: bobId });
      expect(row.error).toMatch(/^P0001: .*refused by the test/);
    }
    // The dispatcher split the INSERT it shared with Alice's reports; each side counted its dead letter.
    expect(await metric(system.dispatcherUrl, 'smsfleet_batch_splits_total', 'status')).toBeGreaterThan(0);
    expect(await metric(system.dispatcherUrl, 'smsfleet_dead_letters_total', 'status')).toBe(1);
    expect(await metric(system.url('status'), 'smsfleet_dead_letters_total', 'status')).toBe(1);

    // The rest of both phones' reports go through.
    for (const [phone, ids, ledger] of [
      [a, [a1, a2], ledgerA],
      [b, [b1, b2], ledgerB],
    ] as const) {
      const rest = ids.flatMap((id) =>
        phone === a
          ? [{ id, status: MessageStatus.Delivered, at: at() }]
          : [
              { id, status: MessageStatus.SentByPhone, at: at() },
              { id, status: MessageStatus.Delivered, at: at() },
            ],
      );
      expect(await report(phone.socket, rest)).toEqual({ ok: true });
      for (const { id, status } of rest) ledger.acked(id, status);
    }

    // hello: Bob's refused one among Alice's (the writer is busy with the first: the rest wait together).
    const hellos = await Promise.all([
      ...[1, 2, 3].map(
        (n) =>
          a.socket
            .timeout(10_000)
            .emitWithAck(DeviceEvent.hello, { appversion: `alice-${n}` }) as Promise<HelloAck>,
      ),
      b.socket
        .timeout(10_000)
        .emitWithAck(DeviceEvent.hello, { appversion: 'refuse-hello' }) as Promise<HelloAck>,
      a.socket.timeout(10_000).emitWithAck(DeviceEvent.hello, { appversion: 'alice-4' }) as Promise<HelloAck>,
    ]);
    expect(hellos.every((answer) => answer.ok)).toBe(true);
    const [hello] = await deadLetters('hello');
    expect(hello).toMatchObject({
      device_id: b.deviceId,
      account_id: bobId,
      payload: { appVersion: 'refuse-hello' },
    });
    const [aliceDevice] = await system.query<{ app_version: string }>(
      'SELECT app_version FROM devices WHERE id = $1',
      [a.deviceId],
    );
    expect(aliceDevice.app_version).toBe('alice-4');
    expect(await metric(system.dispatcherUrl, 'smsfleet_dead_letters_total', 'hello')).toBe(1);

    // incoming SMS: Bob's refused one in the same moment as Alice's.
    const sms = (socket: Socket, body: string) =>
      socket.timeout(10_000).emitWithAck(DeviceEvent.incoming, {
        from: '+4915752982212',
        body,
        sim: 0,
        receivedAt: at(),
      }) as Promise<IncomingAck>;
    const incoming = await Promise.all([
      sms(a.socket, 'alice one'),
      sms(b.socket, 'refuse-incoming'),
      sms(a.socket, 'alice two'),
    ]);
    expect(incoming[1]).toEqual({ ok: true, id: 0 });
    for (const answer of [incoming[0], incoming[2]]) {
      expect(answer.ok).toBe(true);
      expect((answer as { id: number }).id).toBeGreaterThan(0);
    }
    // By body, not id: Alice's two may land in different batches, and the one beside Bob's refused
    // SMS commits after its split, so either may get the lower id.
    const stored = await system.query<{ body: string }>(
      'SELECT body FROM messages WHERE status = 5 AND device_id = $1 ORDER BY body',
      [a.deviceId],
    );
    expect(stored.map((row) => row.body)).toEqual(['alice one', 'alice two']);
    const [refusedSms] = await deadLetters('incoming');
    expect(refusedSms).toMatchObject({
      device_id: b.deviceId,
      account_id: bobId,
      payload: { body: 'refuse-incoming' },
    });
    expect(await metric(system.dispatcherUrl, 'smsfleet_dead_letters_total', 'incoming')).toBe(1);

    // Every message of both tenants reaches 7; Bob's refused reports count as dead-lettered in L9.
    const all = [a1, a2, b1, b2, ...fleetIds];
    await waitFor(
      'every message delivered',
      async () =>
        (
          await system.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::bigint[]) AND status = 7',
            [all],
          )
        )[0].n === all.length,
      60_000,
    );
    const listed = system.cli('dead-letters', '--account', String(bobId), '--limit', '10');
    expect(
      listed
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { kind: string }).kind)
        .sort(),
    ).toEqual(['hello', 'incoming', 'status', 'status']);
    expect(system.cli('dead-letters', '--account', '999999').trim()).toBe('');
    const { status, invariants, failing } = checkSettled(system, client, [fleet.ledger, ledgerA, ledgerB]);
    expect(failing).toEqual([]);
    expect(status).toBe(0);
    expect(invariants.get('L9')?.counts).toMatchObject({ deadLettered: 2, missing: 0 });
  }, 180_000);

  it('answers a hello whose write fails for another reason than its data ok:false; the next one is written', async () => {
    const phone = await rawPhone(alice, 'alice hello');
    const hello = (appversion: string) =>
      phone.socket.timeout(10_000).emitWithAck(DeviceEvent.hello, { appversion }) as Promise<HelloAck>;
    // The hello's UPDATE waits behind this row lock until PostgreSQL cancels it: what a statement timeout
    // or an operator's pg_cancel_backend does (57014, no refusal of the data: nothing to dead-letter).
    const locker = new Client({ connectionString: system.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM devices WHERE id = $1 FOR UPDATE', [phone.deviceId]);
      const answer = hello('cancelled');
      let waiting: number | undefined;
      await waitFor(
        "the hello's write waiting for the row",
        async () => {
          const rows = await system.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND wait_event_type = 'Lock' AND query LIKE '%SET app_version%'`,
          );
          waiting = rows[0]?.pid;
          return waiting !== undefined;
        },
        10_000,
      );
      await system.query('SELECT pg_cancel_backend($1)', [waiting]);
      expect(await answer).toEqual({ ok: false, error: 'temporarily unavailable, retry' });
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(await hello('written')).toMatchObject({ ok: true, settings: expect.any(Object) });
    const [row] = await system.query<{ app_version: string }>(
      'SELECT app_version FROM devices WHERE id = $1',
      [phone.deviceId],
    );
    expect(row.app_version).toBe('written');
    expect(await deadLetters('hello')).toHaveLength(1);
  }, 60_000);
});
