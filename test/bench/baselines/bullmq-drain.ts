import { Worker } from 'bullmq';
import IORedis from 'ioredis';
import { fillBaselineQueues } from './baseline-queues';

/**
 * Dispatch baseline (b): BullMQ draining N queues, one no-op Worker each (as DESIGN measured), M jobs per
 * queue added beforehand. Prints the jobs/s from the first worker start to the last completion.
 */
const queues = Number(process.env.QUEUES);
const perQueue = Number(process.env.PER_QUEUE);
const prefix = process.env.REDIS_PREFIX as string;
const connection = new IORedis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });

async function main(): Promise<void> {
  const names = await fillBaselineQueues(connection, prefix, 'baseline', queues, perQueue);
  let done = 0;
  const total = queues * perQueue;
  const started = Date.now();
  const workers: Worker[] = [];
  await new Promise<void>((resolve) => {
    for (const name of names) {
      const worker = new Worker(name, async () => undefined, {
        connection,
        prefix,
        skipVersionCheck: true,
        concurrency: 10,
      });
      worker.on('completed', () => {
        done++;
        if (done === total) resolve();
      });
      workers.push(worker);
    }
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(JSON.stringify({ jobsPerSecond: total / seconds }));
  await Promise.all(workers.map((worker) => worker.close(true)));
  process.exit(0);
}

void main();
