import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePhoneLedger } from '../../tools/ledger-files';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import type { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { postJson } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { v1Call } from '../helpers/api-client';
import { createPool, fleetFor, poolOnline, SILENT_ON_SILENT } from '../helpers/pools';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const PHONES = 5;
const MESSAGES = 50;
const GRACE_SECONDS = 3;
/** A few mover rounds and a busy machine on top of the grace (the issue: "within grace + a few seconds"). */
const MOVE_SLACK_MS = 4_000;

/**
 * Issue 22's pool test (ADR 2221 §4, §6, §8): a pool of five phones, each paced at one message a second so
 * that a backlog waits in every queue; two phones drop mid-run. Their untaken messages move to the three
 * others within the grace and a few seconds, every message is delivered once, and `cli check --settled`
 * with the phone ledger passes (L4 sent once, L6 no residue, L13 no message at two phones). The dropped
 * phones come back after the moves: anything they were sent before dropping is theirs alone to send.
 * The last test covers the other drain reason, a member whose SIM quota is full.
 */
describe('a pool of five phones, two of them drop mid-run', () => {
  let system: TestSystem;
  let account: Account;
  let fleet: SimulatedFleet;
  let dir: string;
  /** Every phone of every test so far: a later `cli check --settled` judges the whole database. */
  const ledgers: PhoneLedger[] = [];

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher', 'scheduler', 'status'], {
      POOL_OFFLINE_GRACE_SECONDS: String(GRACE_SECONDS),
      POOL_MOVE_INTERVAL_MS: '300',
      SCHEDULER_SWEEP_INTERVAL_MS: '500',
    });
    account = system.createAccount();
    dir = mkdtempSync(join(tmpdir(), 'smsfleet-pool-failover-'));
  });

  afterAll(async () => {
    fleet?.stop();
    await system?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const v1 = (method: string, path: string, body?: unknown) =>
    v1Call(system.apiUrl, account, method, path, body);

  /** Waits until the API counts this many of the pool's members online. */
  const membersOnline = (owner: Account, pool: number, count: number, timeoutMs?: number) =>
    waitFor(
      `${count} members online`,
      async () => (await poolOnline(system.apiUrl, owner, pool)) === count,
      timeoutMs,
    );
  const deliveredCount = async (ids: number[]) =>
    (
      await system.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::bigint[]) AND status = 7`,
        [ids],
      )
    )[0].n;
  /** The scheduler's count of pool moves for this reason. */
  const poolMoves = async (reason: string) => {
    const metrics = await (await fetch(`${system.url('scheduler')}/metrics`)).text();
    const line = new RegExp(`^smsfleet_pool_moves_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)$`, 'm');
    return Number(line.exec(metrics)?.[1] ?? 0);
  };
  /**
   * `cli check --settled` with this phone ledger, retried until it passes (the jobs of the last acks may
   * still be completing); its output.
   */
  const checkSettled = async (ledger: string, timeoutMs: number) => {
    let check = system.cliResult('check', '--settled', '--phone-ledger', ledger);
    await waitFor(
      'cli check --settled passes',
      () => {
        check = system.cliResult('check', '--settled', '--phone-ledger', ledger);
        return check.status === 0;
      },
      timeoutMs,
      1_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${check.stdout}${check.stderr}`);
    });
    return check.stdout;
  };

  const waitingOn = async (deviceIds: number[]) =>
    system.query<{ id: string; device_id: number }>(
      `SELECT id, device_id FROM messages WHERE device_id = ANY($1::int[]) AND status IN (1, 3) ORDER BY id`,
      [deviceIds],
    );
  /** Of these messages, those whose job says a phone was sent it (ADR 2221 §6). */
  const emitted = async (rows: Array<{ id: string; device_id: number }>) => {
    const marks = await Promise.all(
      rows.map((row) =>
        system.redis().hget(`${system.redisPrefix}:device-${row.device_id}:m${row.id}`, 'em'),
      ),
    );
    return rows.filter((_, index) => marks[index] !== null);
  };

  it('moves the dropped phones’ untaken messages within the grace, delivers each once, and the checks pass', async () => {
    fleet = fleetFor(system, account);
    ledgers.push(fleet.ledger);
    const devices = (await fleet.provision(PHONES)).map((phone) => phone.deviceId);
    for (const deviceId of devices)
      expect((await v1('POST', `/v1/devices/${deviceId}/settings`, { delaybetweeneachsms: 1 })).status).toBe(
        200,
      );
    const pool = await createPool(system.apiUrl, account, 'Failover', devices);
    await fleet.connectAll();
    await membersOnline(account, pool, PHONES, 15_000);

    const answer = await postJson(system.apiUrl, 'addalotofsms', {
      token: account.token,
      smsdata: Array.from({ length: MESSAGES }, (_, n) => ({
        sendto: `+49157${String(n).padStart(7, '0')}`,
        body: `pooled ${n}`,
        pool_id: pool,
      })),
    });
    expect(answer.body.error).toBe(0);
    const ids = answer.body.sms_ids as number[];
    expect(ids).toHaveLength(MESSAGES);
    const spread = await system.query<{ device_id: number; n: number }>(
      `SELECT device_id, count(*)::int AS n FROM messages WHERE id = ANY($1::bigint[]) GROUP BY device_id`,
      [ids],
    );
    // Routed by load across the whole pool.
    expect(spread).toHaveLength(PHONES);

    // Mid-run: a couple of messages each went out, the rest wait behind the pace.
    await waitFor('two sent by each phone', () =>
      devices.every((deviceId) => fleet.ledger.received.filter((r) => r.deviceId === deviceId).length >= 2),
    );
    const dropped = fleet.phones.slice(0, 2);
    const droppedIds = dropped.map((phone) => phone.deviceId);
    for (const phone of dropped) phone.dropConnection();
    const droppedAt = Date.now();

    // Everything left on them is what a phone was sent before the drop (pinned there): nothing else waits.
    const movedBy = await waitFor(
      'the dropped phones’ untaken messages moved',
      async () => {
        const left = await waitingOn(droppedIds);
        return left.length === (await emitted(left)).length && Date.now();
      },
      (GRACE_SECONDS + 20) * 1_000,
      100,
    );
    const movedMs = movedBy - droppedAt;
    const moved = await poolMoves('offline');
    reportFigure('pool failover: moved after the drop', { movedMs, graceMs: GRACE_SECONDS * 1_000, moved });
    expect(moved).toBeGreaterThan(0);
    expect(movedMs).toBeGreaterThanOrEqual(GRACE_SECONDS * 1_000);
    expect(movedMs).toBeLessThanOrEqual(GRACE_SECONDS * 1_000 + MOVE_SLACK_MS);
    // Moved messages reached the three phones still online, while the other two were away.
    await waitFor(
      'the three online phones sent their share and the moved ones',
      async () => (await waitingOn(devices.slice(2))).length === 0,
      40_000,
      250,
    );
    expect(fleet.ledger.received.filter((r) => droppedIds.includes(r.deviceId) && r.at > droppedAt)).toEqual(
      [],
    );

    // The dropped phones come back: whatever was pinned to them (sent before the drop) goes out from them.
    for (const phone of dropped) phone.restoreConnection();
    await waitFor(
      'every message delivered',
      async () => (await deliveredCount(ids)) === MESSAGES,
      30_000,
      250,
    );
    for (const id of ids) expect(fleet.ledger.sends.get(id)).toBe(1);

    const ledger = join(dir, 'phone.jsonl');
    writePhoneLedger(ledger, [fleet.ledger]);
    // Settled: the jobs of the last acks may still be completing (L6 counts active ones).
    const checked = await checkSettled(ledger, 30_000);
    expect(checked).toMatch(/^L4 ok .*sentMoreThanOnce=0/m);
    expect(checked).toMatch(/^L6 ok /m);
    expect(checked).toMatch(new RegExp(`^L13 ok .*idsWithDevice=${MESSAGES} receivedByTwoPhones=0`, 'm'));
  });

  it('finishes moves a mover left half-done: the messages go back to the outbox and out, once', async () => {
    const [{ pool_id: pool, user_id: userId }] = await system.query<{ pool_id: number; user_id: number }>(
      `SELECT pool_id, user_id FROM pool_devices LIMIT 1`,
    );
    const [x, y] = fleet.phones.slice(2).map((phone) => phone.deviceId);
    const insert = async (deviceId: number) => {
      const [row] = await system.query<{ id: string }>(
        `INSERT INTO messages (user_id, device_id, pool_id, sendto, phone, body, sim, time_to_send, valid_until, enqueued_at)
         VALUES ($1, $2, $3, '+4915799900000', '+4915799900000', 'half-moved', 0, now(), now() + interval '1 hour', now())
         RETURNING id`,
        [userId, deviceId, pool],
      );
      return Number(row.id);
    };
    // Died before its commit: the row still names the old phone, whose job the script removed.
    const beforeCommit = await insert(x);
    // Died after its commit, before its add: the row names the new phone, which has no job.
    const beforeAdd = await insert(y);
    const key = `${system.redisPrefix}:pool-moving`;
    const longAgo = Date.now() - 100_000;
    await system
      .redis()
      .hset(key, String(beforeCommit), `${x}:${longAgo}`, String(beforeAdd), `${x}:${longAgo}`);
    // A move still in progress (recent) and one of a message gone since.
    await system
      .redis()
      .hset(key, '987654321', `${x}:${longAgo}`, '987654322', `${x}:${Date.now() + 60_000}`);
    await waitFor(
      'both delivered',
      async () => (await deliveredCount([beforeCommit, beforeAdd])) === 2,
      20_000,
      250,
    );
    expect(fleet.ledger.sends.get(beforeCommit)).toBe(1);
    expect(fleet.ledger.sends.get(beforeAdd)).toBe(1);
    expect((await system.redis().hkeys(key)).sort()).toEqual(['987654322']);
    // Log files are written asynchronously.
    const recovered = await waitFor('the recovery logged', () => {
      const lines = system
        .logLines('scheduler')
        .filter((line) => String(line.msg).startsWith('unfinished pool moves found'));
      return lines.length > 0 && lines;
    });
    expect(recovered).toEqual([expect.objectContaining({ messageIds: [beforeCommit, beforeAdd] })]);
  });

  it('removing a member moves its pool messages no phone was sent to the others, once; what it was sent ends', async () => {
    const owner = system.createAccount();
    // "silent": emitted to the phone (marked), never acknowledged.
    const phones = fleetFor(system, owner, SILENT_ON_SILENT);
    ledgers.push(phones.ledger);
    const asOwner = (method: string, path: string, body?: unknown) =>
      v1Call(system.apiUrl, owner, method, path, body);
    const [leaving, ...staying] = (await phones.provision(3)).map((phone) => phone.deviceId);
    const pool = await createPool(system.apiUrl, owner, 'Removal', [leaving, ...staying]);
    try {
      // Only the leaving phone online: routing puts everything on it.
      await phones.phones[0].connect();
      await membersOnline(owner, pool, 1);
      const stamp = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(0, 19);
      const later = stamp(Date.now() + 8_000);
      const answer = await postJson(system.apiUrl, 'addalotofsms', {
        token: owner.token,
        smsdata: [
          { sendto: '+4915788800000', body: 'silent', pool_id: pool },
          ...Array.from({ length: 6 }, (_, n) => ({
            sendto: `+49157888${String(n + 1).padStart(5, '0')}`,
            body: `later ${n}`,
            pool_id: pool,
            timetosend: later,
          })),
        ],
      });
      expect(answer.body.error).toBe(0);
      const [silent, ...waiting] = answer.body.sms_ids as number[];
      expect(new Set((await waitingOn([leaving])).map((row) => Number(row.id)))).toEqual(
        new Set([silent, ...waiting]),
      );
      await waitFor('the silent one at the leaving phone', () =>
        phones.ledger.received.some((entry) => entry.id === silent),
      );
      await Promise.all(phones.phones.slice(1).map((phone) => phone.connect()));
      await membersOnline(owner, pool, 3);

      // Removed before the six are due: only the message its phone was sent is finalised.
      const removal = await asOwner('DELETE', `/v1/devices/${leaving}`);
      expect([removal.status, removal.body.messages_finalised]).toEqual([200, 1]);
      await waitFor(
        'the six delivered by the others',
        async () => (await deliveredCount(waiting)) === waiting.length,
        30_000,
        250,
      );
      for (const id of waiting) {
        const got = phones.ledger.received.filter((entry) => entry.id === id);
        expect(got).toHaveLength(1);
        expect(staying).toContain(got[0].deviceId);
      }
      const [silentRow] = await system.query<{ status: number }>(
        `SELECT status FROM messages WHERE id = $1`,
        [silent],
      );
      expect(silentRow.status).toBe(202);
      expect(await poolMoves('left')).toBeGreaterThanOrEqual(waiting.length);
      const moving = await system.redis().hkeys(`${system.redisPrefix}:pool-moving`);
      expect(moving.filter((id) => waiting.includes(Number(id)))).toEqual([]);
    } finally {
      phones.stop();
    }
  });

  it('a member at its SIM quota sends exactly its quota; its held pool messages move to the others, once', async () => {
    const QUOTA = 3;
    const SENT = 8;
    const owner = system.createAccount();
    const phones = fleetFor(system, owner);
    ledgers.push(phones.ledger);
    const asOwner = (method: string, path: string, body?: unknown) =>
      v1Call(system.apiUrl, owner, method, path, body);
    const [limited, ...others] = (await phones.provision(3)).map((phone) => phone.deviceId);
    expect(
      (await asOwner('POST', `/v1/devices/${limited}/settings`, { simquotas: `all ${QUOTA}/hour` })).status,
    ).toBe(200);
    const pool = await createPool(system.apiUrl, owner, 'Quota', [limited, ...others]);
    const quotaMovesBefore = await poolMoves('quota');
    try {
      // Only the limited phone online: routing has nowhere else to put the batch.
      await phones.phones[0].connect();
      await membersOnline(owner, pool, 1);
      const answer = await postJson(system.apiUrl, 'addalotofsms', {
        token: owner.token,
        smsdata: Array.from({ length: SENT }, (_, n) => ({
          sendto: `+49157777${String(n).padStart(5, '0')}`,
          body: `quota ${n}`,
          pool_id: pool,
        })),
      });
      expect(answer.body.error).toBe(0);
      const ids = answer.body.sms_ids as number[];
      const routed = await system.query<{ id: string; device_id: number }>(
        `SELECT id, device_id FROM messages WHERE id = ANY($1::bigint[])`,
        [ids],
      );
      const onLimited = routed.filter((row) => row.device_id === limited).length;
      expect(onLimited).toBeGreaterThan(QUOTA);

      // It sends its quota; the rest wait held for the quota, never emitted to it.
      await waitFor('the quota sent', () => phones.ledger.received.length >= QUOTA);
      const held = await waitFor('the rest held for the quota', async () => {
        const rows = await waitingOn([limited]);
        const hashes = await Promise.all(
          rows.map((row) => system.redis().hgetall(`${system.redisPrefix}:device-${limited}:m${row.id}`)),
        );
        return (
          rows.length === onLimited - QUOTA &&
          hashes.every((hash) => hash.em === undefined && JSON.parse(hash.data ?? '{}').held === 'quota') &&
          rows.map((row) => Number(row.id))
        );
      });

      // The others come online: the mover gives them what the limited phone may not send.
      await Promise.all(phones.phones.slice(1).map((phone) => phone.connect()));
      await waitFor('every message delivered', async () => (await deliveredCount(ids)) === SENT, 20_000, 250);
      for (const id of ids) expect(phones.ledger.sends.get(id)).toBe(1);
      expect(phones.ledger.received.filter((entry) => entry.deviceId === limited)).toHaveLength(QUOTA);
      for (const id of held) {
        const got = phones.ledger.received.filter((entry) => entry.id === id);
        expect(got).toHaveLength(1);
        expect(others).toContain(got[0].deviceId);
      }
      expect((await poolMoves('quota')) - quotaMovesBefore).toBe(held.length);
      const ledger = join(dir, 'quota-phones.jsonl');
      writePhoneLedger(ledger, ledgers);
      const checked = await checkSettled(ledger, 15_000);
      expect(checked).toMatch(/^L4 ok .*sentMoreThanOnce=0/m);
      expect(checked).toMatch(/^L11 ok .*overQuota=0/m);
      expect(checked).toMatch(/^L13 ok .*receivedByTwoPhones=0/m);
    } finally {
      phones.stop();
    }
  });
});
