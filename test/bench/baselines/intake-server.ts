import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Pool } from 'pg';

/**
 * The intake baseline: a bare Node HTTP server doing what the API does at its core, and nothing else —
 * one INSERT into `messages` and one BullMQ add per request. Run as its own process, like the API.
 */
const port = Number(process.env.PORT);
const userId = Number(process.env.USER_ID);
const deviceId = Number(process.env.DEVICE_ID);
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const redis = new IORedis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
const queue = new Queue(`device-${deviceId}`, {
  connection: redis,
  prefix: process.env.REDIS_PREFIX,
  skipVersionCheck: true,
});

createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    void (async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as {
          sendto?: string;
          body?: string;
        };
        const rows = await pool.query<{ id: number }>(
          `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, urgent, time_to_send, valid_until)
           VALUES ($1, $2, $3, $3, $4, 0, false, now(), now() + interval '1 day') RETURNING id`,
          [userId, deviceId, body.sendto ?? '+4915700000000', body.body ?? 'x'],
        );
        const id = Number(rows.rows[0].id);
        await queue.add('sms', { messageId: id }, { jobId: `m${id}`, priority: 2, removeOnComplete: true });
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 0, sms_id: id }));
      } catch (error) {
        response.writeHead(500);
        response.end(String(error));
      }
    })();
  });
}).listen(port, '127.0.0.1', () => console.log('ready'));
