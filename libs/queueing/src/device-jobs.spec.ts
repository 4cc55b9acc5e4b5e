import { DeviceJobName, SendSmsJob } from '@smsfleet/contracts';
import { deviceJob, DeviceJob, DeviceJobQueue } from './device-jobs';

const SMS: SendSmsJob = {
  messageId: 1,
  sendto: '+4915700000000',
  body: 'x',
  sim: 0,
  urgent: false,
  validUntil: 0,
};

/**
 * Checked by `tsc --noEmit` (npm run lint), never run: a job's name is bound to its data. Each
 * `@ts-expect-error` fails the type check if its line compiles.
 */
export async function wrongJobsDoNotCompile(queue: DeviceJobQueue, job: DeviceJob): Promise<void> {
  await queue.add(DeviceJobName.sms, SMS);
  // @ts-expect-error no such job
  await queue.add('report', SMS);
  // @ts-expect-error an `sms` job needs its recipient
  await queue.add(DeviceJobName.sms, { ...SMS, sendto: undefined });
  // @ts-expect-error no such job
  deviceJob('report', SMS, {});
  // @ts-expect-error `validUntil` is epoch milliseconds
  deviceJob(DeviceJobName.sms, { ...SMS, validUntil: '2030-01-01' }, {});
  // @ts-expect-error a fetched job's data is a SendSmsJob, which has no `id`
  void job.data.id;
}

describe('deviceJob', () => {
  it('is a job as addBulk takes it: name, data and options unchanged', () => {
    const opts = { jobId: 'm1', priority: 2 };
    expect(deviceJob(DeviceJobName.sms, SMS, opts)).toEqual({ name: 'sms', data: SMS, opts });
  });
});
