import { Queue } from 'bullmq';
import { TestSystem } from '../harness/test-system';

/** Jobs waiting in a device's queue (waiting, prioritized or delayed), read straight from Redis. */
export async function waitingJobs(system: TestSystem, deviceId: number): Promise<number> {
  const queue = new Queue(`device-${deviceId}`, {
    connection: system.redis(),
    prefix: system.redisPrefix,
    skipVersionCheck: true,
  });
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed');
  await queue.close();
  return counts.wait + counts.prioritized + counts.delayed;
}
