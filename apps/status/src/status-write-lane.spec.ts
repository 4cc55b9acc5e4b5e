import { DeviceStatusReport } from './status-aggregation';
import { StatusWriteLane } from './status-write-lane';

const report = (messageId: number): DeviceStatusReport => ({
  messageId,
  deviceId: 1,
  status: 6,
  at: '2026-11-25T10:00:00.000Z',
});

describe('StatusWriteLane', () => {
  it('writes a full batch at once, one write at a time, and answers each submitter after its write', async () => {
    const writes: number[][] = [];
    let release: () => void = () => undefined;
    let running = 0;
    let most = 0;
    const lane = new StatusWriteLane({ batchSize: 2, batchWaitMs: 60_000 }, async (reports) => {
      running++;
      most = Math.max(most, running);
      writes.push(reports.map((r) => r.messageId));
      await new Promise<void>((resolve) => (release = resolve));
      running--;
    });
    const first = lane.submit([report(1), report(2)]);
    const second = lane.submit([report(3), report(4)]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([[1, 2]]);
    release();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([
      [1, 2],
      [3, 4],
    ]);
    release();
    await second;
    expect(most).toBe(1);
  });

  it('writes a smaller batch after the wait, and a failed write rejects its submitters only', async () => {
    let fail = true;
    const lane = new StatusWriteLane({ batchSize: 100, batchWaitMs: 5 }, (reports) =>
      fail ? Promise.reject(new Error(`db away (${reports.length})`)) : Promise.resolve(),
    );
    await expect(Promise.all([lane.submit([report(1)]), lane.submit([report(2)])])).rejects.toThrow(
      'db away (2)',
    );
    fail = false;
    await expect(lane.submit([report(3)])).resolves.toBeUndefined();
  });
});
