import { hourlyOutcomes } from './overview.controller';

describe('overview: messages per hour by outcome', () => {
  const HOUR = 3_600_000;
  const from = new Date(Date.UTC(2026, 11, 6, 0));
  const now = from.getTime() + 3 * HOUR + 120_000;

  it('has every hour of the range, empty ones as zeros, and counts failures by status', () => {
    const result = hourlyOutcomes(
      [
        { hour: new Date(from.getTime() + HOUR), status: 7, count: 5 },
        { hour: new Date(from.getTime() + HOUR), status: 9, count: 2 },
        { hour: new Date(from.getTime() + 3 * HOUR), status: 1, count: 1 },
        { hour: new Date(from.getTime() + 3 * HOUR), status: 6, count: 4 },
        { hour: new Date(from.getTime() + 3 * HOUR), status: 202, count: 3 },
      ],
      from,
      3,
      now,
    );
    expect(result.hours).toEqual([
      { hour: '2026-12-06T00:00:00.000Z', delivered: 0, failed: 0, waiting: 0, in_progress: 0 },
      { hour: '2026-12-06T01:00:00.000Z', delivered: 5, failed: 2, waiting: 0, in_progress: 0 },
      { hour: '2026-12-06T02:00:00.000Z', delivered: 0, failed: 0, waiting: 0, in_progress: 0 },
      { hour: '2026-12-06T03:00:00.000Z', delivered: 0, failed: 3, waiting: 1, in_progress: 4 },
    ]);
    expect(result.failures_by_code).toEqual([
      { status: 202, status_title: 'Not sent - Expired', count: 3 },
      { status: 9, status_title: 'Not SENT - Generic failure', count: 2 },
    ]);
  });
});
