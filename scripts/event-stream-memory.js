// How much Redis a BullMQ queue's event stream takes, with BullMQ's default cap and with ours: a scratch
// queue per cap gets jobs added, taken and completed (added, waiting, active, completed: 4 events each, as a
// phone's queue sees them), then XLEN and MEMORY USAGE of its stream are printed and the queue removed.
//   node scripts/event-stream-memory.js [MESSAGES]     (REDIS_URL, default redis://127.0.0.1:6379)
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

const messages = Number(process.argv[2] ?? 2_500);
const connection = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const prefix = `smsfleet-scratch-${process.pid}`;

async function measure(maxLen) {
  const name = `device-${maxLen ?? 'default'}`;
  const queue = new Queue(name, {
    connection,
    prefix,
    skipVersionCheck: true,
    ...(maxLen === undefined ? {} : { streams: { events: { maxLen } } }),
  });
  const worker = new Worker(name, null, { connection, prefix, skipVersionCheck: true, autorun: false });
  const job = { messageId: 1, sendto: '+4915700000000', body: 'x', sim: 0, urgent: false, validUntil: 0 };
  for (let start = 0; start < messages; start += 500)
    await queue.addBulk(
      Array.from({ length: Math.min(500, messages - start) }, (_, i) => ({
        name: 'sms',
        data: { ...job, messageId: start + i },
        opts: { jobId: `m${start + i}`, removeOnComplete: { age: 60, count: 100 } },
      })),
    );
  for (let taken = await worker.getNextJob('token'); taken; taken = await worker.getNextJob('token'))
    await taken.moveToCompleted(null, 'token', false);
  const key = `${prefix}:${name}:events`;
  const length = await connection.xlen(key);
  const bytes = await connection.memory('USAGE', key, 'SAMPLES', '0');
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return `${maxLen ?? 'BullMQ default (10,000)'}: ${length} events, ${(bytes / 1e6).toFixed(2)} MB`;
}

(async () => {
  console.log(`event stream of a queue after ${messages} messages taken and completed`);
  console.log(`  cap ${await measure(undefined)}`);
  console.log(`  cap ${await measure(100)}`);
  await connection.quit();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
