import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Metrics } from '@smsfleet/observability';
import { DeviceProfileService } from '../../apps/dispatcher/src/device-profile.service';
import { TestSystem } from '../harness/test-system';
import { seedDevices } from '../helpers/seed';

/**
 * A thousand phones reconnecting at once (a dispatcher restart) send their hellos while others connect
 * and disconnect: the node writes both in batches, two statements over the same `devices` rows at the
 * same time. They must lock those rows in one order, or PostgreSQL kills one as a deadlock (seen in the
 * 18:29 soak: 70 hellos failed that way after the dispatcher kill).
 */
describe('device profile writes under a reconnect storm', () => {
  let system: TestSystem;
  let db: DataSource;
  let deviceIds: number[];

  beforeAll(async () => {
    system = await TestSystem.start([]);
    ({ deviceIds } = await seedDevices(system, 'storm@example.com', 300));
    db = new DataSource({ type: 'postgres', url: system.databaseUrl, poolSize: 4 });
    await db.initialize();
  });

  afterAll(async () => {
    await db?.destroy();
    await system?.stop();
  });

  const shuffled = <T>(items: T[]) =>
    items
      .map((item) => ({ item, key: Math.random() }))
      .sort((a, b) => a.key - b.key)
      .map(({ item }) => item);

  it('hellos and touches of overlapping phones, written concurrently by two nodes, never deadlock', async () => {
    // Two nodes (a takeover moves phones between them) each with their two writers: four statements at once.
    const nodes = [new DeviceProfileService(db, new Metrics()), new DeviceProfileService(db, new Metrics())];
    const failures: string[] = [];
    for (let round = 0; round < 20; round++) {
      const writes = nodes.flatMap((node) => [
        ...shuffled(deviceIds).map((id) =>
          node.recordHello(id, { appversion: `v${round}`, siminfo: [{ Slot: 0, CarrierName: 'x' }] }),
        ),
        ...shuffled(deviceIds).map((id) => node.touch(id)),
      ]);
      const results = await Promise.allSettled(writes);
      for (const result of results)
        if (result.status === 'rejected') failures.push(String((result.reason as Error).message));
    }
    expect([...new Set(failures)]).toEqual([]);
    const [row] = await system.query<{ versions: number; unseen: number }>(
      `SELECT count(DISTINCT app_version)::int AS versions, count(*) FILTER (WHERE last_seen_at IS NULL)::int AS unseen
         FROM devices`,
    );
    expect(row).toEqual({ versions: 1, unseen: 0 });
  }, 120_000);

  it('never deadlocks with messages being inserted for the same phones (foreign-key locks)', async () => {
    const [{ user_id: userId }] = await system.query<{ user_id: number }>(
      `SELECT user_id FROM devices WHERE id = $1`,
      [deviceIds[0]],
    );
    const insertFor = (client: Client, deviceId: number) =>
      client.query(
        `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until)
         VALUES ($1, $2, '+4915700000000', '+4915700000000', 'fk', 0, now(), now() + interval '1 day')`,
        [userId, deviceId],
      );
    // An API transaction holds the foreign-key lock of the last phone and then needs the first one's,
    // while a touch of every phone locks them in id order: the classic crossing, unless the two lock
    // modes do not conflict.
    const api = new Client({ connectionString: system.databaseUrl });
    await api.connect();
    try {
      await api.query('BEGIN');
      await insertFor(api, deviceIds[deviceIds.length - 1]);
      const node = new DeviceProfileService(db, new Metrics());
      const touches = Promise.allSettled(deviceIds.map((id) => node.touch(id)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await insertFor(api, deviceIds[0]);
      await api.query('COMMIT');
      const failures = (await touches).filter((result) => result.status === 'rejected');
      expect(failures).toEqual([]);
    } finally {
      await api.end();
    }
  }, 60_000);
});
