import { StatusReportJob } from '@smsfleet/contracts';
import { StatusQueueProducer } from '@smsfleet/queueing';
import { MAX_FLUSHES_IN_FLIGHT, StatusReportBatcher } from './status-report-batcher.service';

/** Records what would go to Redis; the real queue is exercised by the e2e suites. */
class RecordingQueue {
  readonly calls: StatusReportJob[][] = [];
  failNext = false;
  addMany(jobs: StatusReportJob[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('redis away'));
    }
    this.calls.push(jobs);
    return Promise.resolve();
  }
}

const report = (messageId: number, status = 2) => ({ messageId, status, at: '2026-11-25T10:00:00.000Z' });

describe('StatusReportBatcher', () => {
  it('sends what arrives in the same moment as one addBulk, one job per device', async () => {
    const queue = new RecordingQueue();
    const batcher = new StatusReportBatcher(queue as unknown as StatusQueueProducer);
    await Promise.all([
      batcher.submit(1, [report(10)]),
      batcher.submit(2, [report(20)]),
      batcher.submit(1, [report(11), report(12, 6)]),
    ]);
    expect(queue.calls).toEqual([
      [
        { deviceId: 1, reports: [report(10), report(11), report(12, 6)] },
        { deviceId: 2, reports: [report(20)] },
      ],
    ]);
    await batcher.submit(3, [report(30)]);
    expect(queue.calls).toHaveLength(2);
  });

  it('splits a device’s reports into jobs of at most 500', async () => {
    const queue = new RecordingQueue();
    const batcher = new StatusReportBatcher(queue as unknown as StatusQueueProducer);
    const many = Array.from({ length: 400 }, (_, n) => report(n + 1));
    await Promise.all([batcher.submit(1, many), batcher.submit(1, many)]);
    expect(queue.calls[0].map((job) => job.reports.length)).toEqual([400, 400]);
  });

  it('keeps at most MAX_FLUSHES_IN_FLIGHT batches outstanding; what arrives meanwhile goes out together', async () => {
    const released: Array<() => void> = [];
    const calls: StatusReportJob[][] = [];
    const slowQueue = {
      addMany: (jobs: StatusReportJob[]) =>
        new Promise<void>((resolve) => {
          calls.push(jobs);
          released.push(resolve);
        }),
    };
    const batcher = new StatusReportBatcher(slowQueue as unknown as StatusQueueProducer);
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const answered: number[] = [];
    const submit = (deviceId: number, id: number) =>
      batcher.submit(deviceId, [report(id)]).then(() => answered.push(id));
    // One batch per event-loop turn while below the limit.
    for (let turn = 0; turn < MAX_FLUSHES_IN_FLIGHT; turn++) {
      void submit(1, turn + 1);
      await tick();
    }
    expect(calls).toHaveLength(MAX_FLUSHES_IN_FLIGHT);
    // At the limit: later reports wait, over several turns, and then leave in one batch.
    for (let id = 100; id < 105; id++) {
      void submit(id % 2, id);
      await tick();
    }
    expect(calls).toHaveLength(MAX_FLUSHES_IN_FLIGHT);
    expect(answered).toEqual([]);
    released.shift()?.();
    await tick();
    await tick();
    expect(answered).toEqual([1]);
    expect(calls).toHaveLength(MAX_FLUSHES_IN_FLIGHT + 1);
    expect(calls.at(-1)).toEqual([
      { deviceId: 0, reports: [report(100), report(102), report(104)] },
      { deviceId: 1, reports: [report(101), report(103)] },
    ]);
    for (const release of released.splice(0)) release();
    await tick();
    expect(answered.sort((a, b) => a - b)).toEqual([1, 2, 100, 101, 102, 103, 104]);
  });

  it('fails every caller of a batch that could not be queued (the phone retries, the job is not completed)', async () => {
    const queue = new RecordingQueue();
    queue.failNext = true;
    const batcher = new StatusReportBatcher(queue as unknown as StatusQueueProducer);
    const results = await Promise.allSettled([
      batcher.submit(1, [report(1)]),
      batcher.submit(2, [report(2)]),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.submit(1, [report(1)])).resolves.toBeUndefined();
  });
});
