import { Worker } from 'bullmq';
import IORedis from 'ioredis';
import { percentile } from '../stats';
import { fillBaselineQueues } from './baseline-queues';

/**
 * Schedule floor: what BullMQ alone does with the schedule scenario's due batch. N queues, M delayed jobs
 * each, all due at the same second, taken by no-op Workers (concurrency 10, BullMQ's own blocking loop).
 * Prints when the first job was taken after the due second, and how long after that first one the
 * others were (p50 / p99 / max ms): BullMQ's Worker wakes for delayed jobs up to a second late, which the
 * dispatcher does not (it reads the next due time), so the spread after the first job is the fair floor.
 */
const queues = Number(process.env.QUEUES);
const perQueue = Number(process.env.PER_QUEUE);
const prefix = process.env.REDIS_PREFIX as string;
const connection = new IORedis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
/** Enough for the adds and every worker's first blocking call, as the system's batch is in Redis early. */
const LEAD_MS = 5_000;

async function main(): Promise<void> {
  const dueAt = Math.ceil((Date.now() + LEAD_MS) / 1_000) * 1_000;
  const names = await fillBaselineQueues(connection, prefix, 'delayed-baseline', queues, perQueue, () => ({
    delay: dueAt - Date.now(),
  }));
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
  const first = Math.min(...lateness);
  const afterFirst = lateness.map((ms) => ms - first);
  console.log(
    JSON.stringify({
      firstMs: first,
      p50Ms: percentile(afterFirst, 50),
      p99Ms: percentile(afterFirst, 99),
      maxMs: Math.max(...afterFirst),
      early: lateness.filter((ms) => ms < 0).length,
    }),
  );
  await Promise.all(workers.map((worker) => worker.close(true)));
  process.exit(0);
}

void main();
