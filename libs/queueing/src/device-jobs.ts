import type { BulkJobOptions, Job, Queue, Worker } from 'bullmq';
import { DeviceJobItem, DeviceJobItems, DeviceJobName } from '@smsfleet/contracts';

/**
 * BullMQ's types for a device queue, bound to the job map in libs/contracts: adding a job under another
 * name, or with data that is not its name's, does not compile.
 */
export type DeviceJobData = DeviceJobItem['data'];
export type DeviceJob = Job<DeviceJobData, unknown, DeviceJobName>;
export type DeviceJobQueue = Queue<DeviceJobData, unknown, DeviceJobName>;
export type DeviceJobWorker = Worker<DeviceJobData, unknown, DeviceJobName>;

/** One job for a device queue's `add` or `addBulk`: `data` is checked against `name`. */
export interface DeviceJobEntry<N extends DeviceJobName = DeviceJobName> {
  name: N;
  data: DeviceJobItems[N];
  opts: BulkJobOptions;
}

export function deviceJob<N extends DeviceJobName>(
  name: N,
  data: DeviceJobItems[N],
  opts: BulkJobOptions,
): DeviceJobEntry<N> {
  return { name, data, opts };
}
