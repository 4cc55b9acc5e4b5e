import { aggregateReports } from './status-aggregation';

const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, s)).toISOString();

describe('aggregateReports', () => {
  it('keeps the furthest status of a message and every stage time', () => {
    const [change] = aggregateReports([
      { messageId: 5, deviceId: 1, status: 2, at: at(0) },
      { messageId: 5, deviceId: 1, status: 7, at: at(2) },
      { messageId: 5, deviceId: 1, status: 6, at: at(1) },
    ]);
    expect(change).toMatchObject({
      status: 7,
      takenAt: at(0),
      sentAt: at(1),
      deliveredAt: at(2),
      failedAt: null,
    });
  });

  it('records a failure with its reason and time', () => {
    const [change] = aggregateReports([{ messageId: 5, deviceId: 1, status: 9, at: at(3), error: 'radio' }]);
    expect(change).toMatchObject({ status: 9, error: 'radio', failedAt: at(3) });
  });

  it('keeps reports of different devices apart and sorts by message id', () => {
    const changes = aggregateReports([
      { messageId: 9, deviceId: 1, status: 6, at: at(0) },
      { messageId: 3, deviceId: 2, status: 6, at: at(0) },
      { messageId: 3, deviceId: 1, status: 7, at: at(0) },
    ]);
    expect(changes.map((c) => [c.messageId, c.deviceId, c.status])).toEqual([
      [3, 1, 7],
      [3, 2, 6],
      [9, 1, 6],
    ]);
  });

  it('a repeated report changes nothing', () => {
    const changes = aggregateReports([
      { messageId: 1, deviceId: 1, status: 6, at: at(0) },
      { messageId: 1, deviceId: 1, status: 6, at: at(5) },
    ]);
    expect(changes).toHaveLength(1);
    expect(changes[0].sentAt).toBe(at(0));
  });
});
