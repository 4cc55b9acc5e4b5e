import { StatusReportJob } from '@smsfleet/contracts';
import { StatusQueueProducer } from '@smsfleet/queueing';
import { StatusReportBatcher } from './status-report-batcher.service';

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
