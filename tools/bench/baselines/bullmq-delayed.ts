import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { percentile } from '../stats';

/**
 * Schedule floor: what BullMQ alone does with the schedule scenario's due batch. N queues, M delayed jobs
 * each, all due at the same second, taken by no-op Workers (concurrency 10, BullMQ's own blocking loop).
 * Prints the lateness (due → the worker has the job) as p50 / p99 / max ms.
 */
const queues = Number(process.env.QUEUES);
const perQueue = Number(process.env.PER_QUEUE);
const prefix = process.env.REDIS_PREFIX as string;
const connection = new IORedis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
/** Enough for the adds and every worker's first blocking call, as the system's batch is in Redis early. */
const LEAD_MS = 5_000;

async function main(): Promise<void> {
  const names = Array.from({ length: queues }, (_, i) => `delayed-baseline-${i}`);
  const dueAt = Math.ceil((Date.now() + LEAD_MS) / 1_000) * 1_000;
  for (const name of names) {
    const queue = new Queue(name, { connection, prefix, skipVersionCheck: true });
    await queue.addBulk(
      Array.from({ length: perQueue }, (_, j) => ({
        name: 'sms',
        data: { j },
        opts: { priority: 2, delay: dueAt - Date.now(), removeOnComplete: true },
      })),
    );
    await queue.close();
  }
  const lateness: number[] = [];
  const total = queues * perQueue;
  const workers: Worker[] = [];
  await new Promise<void>((resolve) => {
    for (const name of names) {
      const worker = new Worker(
        name,
        async () => {
          lateness.push(Date.now() - dueAt);
          if (lateness.length === total) resolve();
        },
        { connection, prefix, skipVersionCheck: true, concurrency: 10 },
      );
      workers.push(worker);
    }
  });
  console.log(
    JSON.stringify({
      p50Ms: percentile(lateness, 50),
      p99Ms: percentile(lateness, 99),
      maxMs: Math.max(...lateness),
      early: lateness.filter((ms) => ms < 0).length,
    }),
  );
  await Promise.all(workers.map((worker) => worker.close(true)));
  process.exit(0);
}

void main();
