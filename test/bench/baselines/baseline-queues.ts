import { JobsOptions, Queue } from 'bullmq';
import IORedis from 'ioredis';

/** Fills `count` queues named `<name>-<i>` with `perQueue` jobs each, as the system's device queues hold them. */
export async function fillBaselineQueues(
  connection: IORedis,
  prefix: string,
  name: string,
  count: number,
  perQueue: number,
  options: () => JobsOptions = () => ({}),
): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${name}-${i}`);
  for (const queueName of names) {
    const queue = new Queue(queueName, { connection, prefix, skipVersionCheck: true });
    await queue.addBulk(
      Array.from({ length: perQueue }, (_, j) => ({
        name: 'sms',
        data: { j },
        opts: { priority: 2, removeOnComplete: true, ...options() },
      })),
    );
    await queue.close();
  }
  return names;
}
