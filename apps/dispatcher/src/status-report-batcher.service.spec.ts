import { StatusReportJob } from '@smsfleet/contracts';
import { StatusQueueProducer } from '@smsfleet/queueing';
import {
  MAX_FLUSHES_IN_FLIGHT,
  MAX_REPORTS_PER_JOB,
  StatusReportBatcher,
} from './status-report-batcher.service';

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
  it('sends what arrives in the same moment as one addBulk, in one job holding every device', async () => {
    const queue = new RecordingQueue();
    const batcher = new StatusReportBatcher(queue as unknown as StatusQueueProducer);
    await Promise.all([
      batcher.submit(1, [report(10)]),
      batcher.submit(2, [report(20)]),
      batcher.submit(1, [report(11), report(12, 6)]),
    ]);
    expect(queue.calls).toEqual([
      [
        {
          devices: [
            { deviceId: 1, reports: [report(10), report(11), report(12, 6)] },
            { deviceId: 2, reports: [report(20)] },
          ],
        },
      ],
    ]);
    await batcher.submit(3, [report(30)]);
    expect(queue.calls).toHaveLength(2);
  });

  it('splits a batch into jobs of at most MAX_REPORTS_PER_JOB reports, losing none', async () => {
    const queue = new RecordingQueue();
    const batcher = new StatusReportBatcher(queue as unknown as StatusQueueProducer);
    const many = (from: number) => Array.from({ length: 400 }, (_, n) => report(from + n));
    await Promise.all([
      batcher.submit(1, many(1)),
      batcher.submit(2, many(1_001)),
      batcher.submit(1, many(2_001)),
    ]);
    const [jobs] = queue.calls;
    expect(jobs.map((job) => job.devices.map((d) => [d.deviceId, d.reports.length]))).toEqual([
      [
        [1, 400],
        [2, 100],
      ],
      [
        [2, 300],
        [1, 200],
      ],
      [[1, 200]],
    ]);
    const sent = jobs.flatMap((job) =>
      job.devices.flatMap((d) => d.reports.map((r) => `${d.deviceId}:${r.messageId}`)),
    );
    const submitted = [
      ...many(1).map((r) => `1:${r.messageId}`),
      ...many(1_001).map((r) => `2:${r.messageId}`),
      ...many(2_001).map((r) => `1:${r.messageId}`),
    ];
    expect(sent.sort()).toEqual(submitted.sort());
    expect(MAX_REPORTS_PER_JOB).toBe(500);
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
      {
        devices: [
          { deviceId: 0, reports: [report(100), report(102), report(104)] },
          { deviceId: 1, reports: [report(101), report(103)] },
        ],
      },
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
