import { io, Socket } from 'socket.io-client';
import { DEVICE_NAMESPACE, DeviceEvent, MessageStatus } from '@smsfleet/contracts';
import { BenchSystem } from '../../harness/bench-system';
import { waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { round } from '../stats';

const REPORTS_PER_EVENT = 100;
const UPDATE_BATCH = 500;

/** Inserts `perDevice` messages per device straight into PostgreSQL, already handed to the phone (status 2). */
async function seedTakenMessages(
  system: BenchSystem,
  userId: number,
  deviceIds: number[],
  perDevice: number,
): Promise<Map<number, number[]>> {
  const byDevice = new Map<number, number[]>();
  for (const deviceId of deviceIds) {
    const rows = await system.db().query<{ id: string }>(
      `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until, status, enqueued_at, taken_at)
       SELECT $1, $2, '+4915700000000', '+4915700000000', 'benchmark', 0, now(), now() + interval '1 day', 2, now(), now()
         FROM generate_series(1, $3) RETURNING id`,
      [userId, deviceId, perDevice],
    );
    byDevice.set(
      deviceId,
      rows.rows.map((row) => Number(row.id)),
    );
  }
  return byDevice;
}

/** Phones report sent + delivered for every message, through the socket, the status inbox and the status app. */
export const status: Scenario = {
  name: 'status',
  description: 'phones report sent + delivered for 100,000 messages',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('status');
    const total = scaled(100_000, context, 200);
    const phones = Math.min(100, Math.max(1, Math.round(total / 1_000)));
    const perPhone = Math.ceil(total / phones);
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api', 'dispatcher', 'status']);
      const account = system.createAccount();
      const credentials = await system.registerPhones(account, phones);
      const [{ id: userId }] = (await system.db().query<{ id: number }>('SELECT id FROM users')).rows;
      progress.update(`seeding ${phones * perPhone} messages at status 2`, true);
      const ids = await seedTakenMessages(
        system,
        userId,
        credentials.map((c) => c.deviceId),
        perPhone,
      );
      const allIds = [...ids.values()].flat();
      const reports = allIds.length * 2;

      progress.update('baseline: multi-row UPDATEs of the same rows, no queue', true);
      const baseStart = Date.now();
      for (const statusCode of [MessageStatus.SentByPhone, MessageStatus.Delivered]) {
        for (let i = 0; i < allIds.length; i += UPDATE_BATCH) {
          await system
            .db()
            .query(
              `UPDATE messages m SET status = $2, sent_at = COALESCE(sent_at, now()), updated_at = now() FROM unnest($1::bigint[]) AS v(id) WHERE m.id = v.id`,
              [allIds.slice(i, i + UPDATE_BATCH), statusCode],
            );
        }
      }
      const baseline = reports / ((Date.now() - baseStart) / 1000);
      await system.db().query(`UPDATE messages SET status = 2, sent_at = NULL, delivered_at = NULL`);
      // The baseline met a fresh table; without this the system would meet three dead versions of each row.
      await system.db().query('VACUUM ANALYZE messages');

      progress.update(`system: ${phones} phones report over the socket`, true);
      const sockets: Socket[] = await Promise.all(
        credentials.map(
          (c) =>
            new Promise<Socket>((resolve, reject) => {
              const socket = io(`${system.dispatcherUrl}${DEVICE_NAMESPACE}`, {
                transports: ['websocket'],
                auth: { deviceId: c.deviceId, secret: c.secret, protocol: 1 },
              });
              socket.once('connect', () => resolve(socket));
              socket.once('connect_error', reject);
            }),
        ),
      );
      const start = Date.now();
      await Promise.all(
        credentials.map(async (c, index) => {
          const socket = sockets[index];
          const mine = ids.get(c.deviceId) ?? [];
          for (const statusCode of [MessageStatus.SentByPhone, MessageStatus.Delivered]) {
            for (let i = 0; i < mine.length; i += REPORTS_PER_EVENT) {
              const batch = mine
                .slice(i, i + REPORTS_PER_EVENT)
                .map((id) => ({ id, status: statusCode, at: new Date().toISOString() }));
              for (;;) {
                const answer = (await socket.timeout(30_000).emitWithAck(DeviceEvent.status, batch)) as {
                  ok: boolean;
                };
                if (answer.ok) break;
              }
            }
          }
        }),
      );
      const acked = Date.now();
      // Counting the table every 100 ms scanned it each time on the same 2 cores as the system under
      // test; so poll twice a second and read the finish from the rows: the last write's updated_at (its
      // statement's start, so this understates the time by at most one write, tens of ms).
      await waitUntil(
        'all messages at status 7',
        async () => {
          const [{ done }] = (
            await system
              .db()
              .query<{ done: number }>('SELECT count(*)::int AS done FROM messages WHERE status = 7')
          ).rows;
          progress.update(`delivered in the database: ${done}/${allIds.length}`);
          return done >= allIds.length;
        },
        600_000,
        500,
      );
      const [{ finished }] = (
        await system.db().query<{ finished: Date }>('SELECT max(updated_at) AS finished FROM messages')
      ).rows;
      const seconds = (finished.getTime() - start) / 1000;
      const rate = reports / seconds;
      for (const socket of sockets) socket.disconnect();
      const [{ events }] = (
        await system.db().query<{ events: number }>('SELECT count(*)::int AS events FROM message_events')
      ).rows;
      const ratio = rate / baseline;
      progress.done(`system ${Math.round(rate)} reports/s vs baseline ${Math.round(baseline)} reports/s`);
      return {
        scenario: this.name,
        description: this.description,
        baseline: { label: 'multi-row UPDATE, no queue', value: round(baseline), unit: 'reports/s' },
        system: {
          label: 'socket → status inbox (PostgreSQL) → batched apply',
          value: round(rate),
          unit: 'reports/s',
        },
        ratio: round(ratio, 3),
        target: '≥ 50 % of baseline',
        met: context.scale >= 1 ? ratio >= 0.5 : null,
        details: {
          messages: allIds.length,
          reports,
          phones,
          'seconds until every report was acked by the server': round((acked - start) / 1000, 2),
          'history rows written': events,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
