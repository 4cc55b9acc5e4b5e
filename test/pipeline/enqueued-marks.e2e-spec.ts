import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EnqueuedMarker } from '@smsfleet/queueing';
import { seedDevices } from '../helpers/seed';
import { TestSystem } from '../harness/test-system';

/**
 * The API marks `enqueued_at` for many messages in one UPDATE while the status writer moves many of the
 * same rows on in another, each in its own order: waiting for each other's rows, the two deadlocked a few
 * times a soak (07:40, 2026-12-05). The marker now skips a row another statement holds.
 */
describe('enqueued_at marks never wait for rows being written elsewhere', () => {
  let system: TestSystem;
  let db: DataSource;

  beforeAll(async () => {
    system = await TestSystem.start([]);
    db = new DataSource({ type: 'postgres', url: system.databaseUrl, poolSize: 2 });
    await db.initialize();
  });

  afterAll(async () => {
    await db?.destroy();
    await system?.stop();
  });

  it('marks the free rows at once and leaves a locked one to the outbox sweep', async () => {
    const { userId, deviceIds } = await seedDevices(system, 'marks@example.com', 1);
    // Due now(): microseconds in PostgreSQL, milliseconds in the JS Date the mark carries back.
    const added = (
      await system.query<{ id: string; time_to_send: Date }>(
        `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until)
         SELECT $1::int, $2::int, '+4915700000000', '+4915700000000', 'mark', 0, now(), now() + interval '1 day'
           FROM generate_series(1, 3) AS n ORDER BY n RETURNING id, time_to_send`,
        [userId, deviceIds[0]],
      )
    ).map((row) => ({ id: Number(row.id), timeToSend: row.time_to_send }));
    const ids = added.map((message) => message.id);
    // A status write in progress on the middle row (its transaction not yet committed).
    const writer = new Client({ connectionString: system.databaseUrl });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE messages SET status = 2 WHERE id = $1`, [ids[1]]);
      const marker = new EnqueuedMarker(db);
      marker.mark(added);
      const marked = await Promise.race([
        marker.drain().then(() => 'marked'),
        new Promise((resolve) => setTimeout(() => resolve('waited for the locked row'), 5_000).unref()),
      ]);
      expect(marked).toBe('marked');
      await writer.query('COMMIT');
    } finally {
      await writer.end();
    }
    const rows = await system.query<{ id: string; marked: boolean }>(
      `SELECT id, enqueued_at IS NOT NULL AS marked FROM messages WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [ids],
    );
    expect(rows.map((row) => row.marked)).toEqual([true, false, true]);
  });
});
