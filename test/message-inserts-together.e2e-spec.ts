import { DataSource } from 'typeorm';
import { loadConfig } from '@smsfleet/config';
import {
  INSERTS_IN_FLIGHT,
  InsertRequest,
  MessageInserter,
} from '../apps/api/src/messages/message-inserter.service';
import { TestSystem } from './helpers/test-system';

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
    [{ id: userId }] = await system.query<{ id: number }>(
      `INSERT INTO users (email, password_hash) VALUES ('together@example.com', 'x') RETURNING id`,
    );
    const devices = await system.query<{ id: number }>(
      `INSERT INTO devices (user_id, secret_hash) SELECT $1, repeat('0', 64) FROM generate_series(1, 3) RETURNING id`,
      [userId],
    );
    deviceIds = devices.map((row) => row.id);
    db = new DataSource({ type: 'postgres', url: system.databaseUrl, poolSize: 4 });
    await db.initialize();
    inserter = new MessageInserter(db, loadConfig({ ...process.env, DATABASE_URL: system.databaseUrl }));
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
});
