import { DataSource } from 'typeorm';
import { loadConfig } from '@smsfleet/config';
import {
  INSERTS_IN_FLIGHT,
  InsertRequest,
  MessageInserter,
} from '../../apps/api/src/messages/message-inserter';
import { IdempotencyKeysService } from '../../apps/api/src/common/idempotency-keys.service';
import { TestSystem } from '../harness/test-system';
import { seedDevices } from '../helpers/seed';

/**
 * Single-message requests that arrive together share one INSERT (the API's answer to OTP traffic). Each
 * request must still get exactly its own rows' ids, in its own order, and a request PostgreSQL refuses
 * must fail alone.
 */
describe('message inserts shared by concurrent requests', () => {
  let system: TestSystem;
  let db: DataSource;
  let inserter: MessageInserter;
  let userId: number;
  let deviceIds: number[];

  beforeAll(async () => {
    system = await TestSystem.start([]);
    ({ userId, deviceIds } = await seedDevices(system, 'together@example.com', 3));
    db = new DataSource({ type: 'postgres', url: system.databaseUrl, poolSize: 4 });
    await db.initialize();
    inserter = new MessageInserter(
      db,
      loadConfig({ ...process.env, DATABASE_URL: system.databaseUrl }),
      new IdempotencyKeysService(db),
    );
  });

  afterAll(async () => {
    await db?.destroy();
    await system?.stop();
  });

  const request = (
    n: number,
    recipients: number,
    deviceId = deviceIds[n % deviceIds.length],
  ): InsertRequest => ({
    userId,
    rows: Array.from({ length: recipients }, (_, r) => ({
      deviceId,
      recipient: {
        sendto: `+49157000${String(n).padStart(3, '0')}${r}`,
        phone: `+49157000${String(n).padStart(3, '0')}${r}`,
      },
      body: `request ${n} recipient ${r}`,
      sim: 0 as const,
      urgent: false,
    })),
    due: Array.from({ length: recipients }, () => new Date()),
    createdAt: new Date(),
  });

  it('gives every one of 300 concurrent requests its own rows, in order, in far fewer statements', async () => {
    const requests = Array.from({ length: 300 }, (_, n) => request(n, 1 + (n % 3)));
    const answers = await Promise.all(requests.map((r) => inserter.insert(r)));
    const all = answers.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(requests.reduce((sum, r) => sum + r.rows.length, 0));
    const stored = await system.query<{ id: number; body: string; device_id: number }>(
      `SELECT id, body, device_id FROM messages WHERE id = ANY($1::bigint[])`,
      [all],
    );
    const byId = new Map(stored.map((row) => [Number(row.id), row]));
    answers.forEach((ids, n) => {
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      ids.forEach((id, r) => {
        expect(byId.get(id)?.body).toBe(`request ${n} recipient ${r}`);
        expect(byId.get(id)?.device_id).toBe(requests[n].rows[r].deviceId);
      });
    });
    // Rows written by one statement (autocommit) share their transaction id: one per request would be 300.
    const [{ statements }] = await system.query<{ statements: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS statements FROM messages WHERE id = ANY($1::bigint[])`,
      [all],
    );
    expect(statements).toBeGreaterThanOrEqual(1);
    expect(statements).toBeLessThanOrEqual(INSERTS_IN_FLIGHT);
  });

  it('fails only the request PostgreSQL refuses; the others that shared its statement are stored', async () => {
    const good = Array.from({ length: 20 }, (_, n) => request(1_000 + n, 2));
    // A device that does not exist (deleted after the ownership check): a foreign-key violation.
    const bad = request(2_000, 1, 2_147_000_000);
    const outcomes = await Promise.allSettled(
      [...good.slice(0, 10), bad, ...good.slice(10)].map((r) => inserter.insert(r)),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    const ids = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
    expect(ids).toHaveLength(40);
    const [{ n }] = await system.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE body LIKE 'request 1___ recipient _' OR body LIKE 'request 2000 %'`,
    );
    expect(n).toBe(40);
  });

  it('keyed requests share one transaction; a key twice in the batch replays, a changed body is refused', async () => {
    const claim = (key: string, fingerprint = `fp-${key}`) => ({ key, endpoint: 'addsms', fingerprint });
    // A key stored before the batch: its replay inside the batch answers the earlier ids.
    const earlier = await inserter.insertOnce(request(3_000, 2), claim('k-earlier'));
    const fresh = Array.from({ length: 60 }, (_, n) => ({
      request: request(3_100 + n, 1 + (n % 2)),
      key: `k-${n}`,
    }));
    const submitted = [
      ...fresh.map((item) => inserter.insertOnce(item.request, claim(item.key))),
      // The same key and body again, in the same moment: the same ids, stored once.
      ...fresh.slice(0, 20).map((item) => inserter.insertOnce(item.request, claim(item.key))),
      inserter.insertOnce(request(3_000, 2), claim('k-earlier')),
      // The same key with another body: refused, nothing stored.
      inserter.insertOnce(request(3_999, 1), claim('k-5', 'another body')),
    ];
    const outcomes = await Promise.allSettled(submitted);
    const value = (index: number) =>
      (outcomes[index] as PromiseFulfilledResult<{ ids: number[]; replayed: boolean }>).value;
    for (let n = 0; n < 60; n++) expect(outcomes[n].status).toBe('fulfilled');
    for (let n = 0; n < 20; n++) expect(value(60 + n)).toEqual({ ids: value(n).ids, replayed: true });
    expect(value(80)).toEqual({ ids: earlier.ids, replayed: true });
    expect(outcomes[81].status).toBe('rejected');
    expect(String((outcomes[81] as PromiseRejectedResult).reason)).toMatch(
      /already used for a different request/,
    );
    const freshIds = fresh.map((_, n) => value(n).ids).flat();
    expect(new Set(freshIds).size).toBe(90);
    const [{ rows, statements }] = await system.query<{ rows: number; statements: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT xmin::text)::int AS statements
         FROM messages WHERE body LIKE 'request 3___ recipient _'`,
    );
    expect(rows).toBe(2 + 90);
    // The earlier request's own transaction, and at most INSERTS_IN_FLIGHT for the batch.
    expect(statements).toBeLessThanOrEqual(1 + INSERTS_IN_FLIGHT);
    const keys = await system.query<{ key: string; result_ids: string[] }>(
      `SELECT key, result_ids FROM idempotency_keys WHERE key LIKE 'k-%' ORDER BY key`,
    );
    expect(keys).toHaveLength(61);
    const byKey = new Map(keys.map((row) => [row.key, row.result_ids.map(Number)]));
    fresh.forEach((item, n) => expect(byKey.get(item.key)).toEqual(value(n).ids));
  });
});
