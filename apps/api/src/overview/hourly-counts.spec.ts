import { Account } from '@smsfleet/auth';
import { HOUR_MS, HourlyCounts } from './hourly-counts';
import { HourStatusCount } from '@smsfleet/persistence';
import { OverviewRepository } from './overview.repository';

/** The repository's answers for given hours, recording which hours were asked for. */
class HoursTable {
  readonly asked: number[][] = [];
  readonly askedStored: number[][] = [];
  constructor(
    private readonly rows: HourStatusCount[],
    private readonly stored: { hours: Date[]; counts: HourStatusCount[] } = { hours: [], counts: [] },
  ) {}
  async storedHours(_account: Account, hours: Date[]) {
    const wanted = hours.map((h) => h.getTime());
    this.askedStored.push(wanted);
    return {
      hours: this.stored.hours.filter((h) => wanted.includes(h.getTime())),
      counts: this.stored.counts.filter((row) => wanted.includes(row.hour.getTime())),
    };
  }
  async byHourAndStatus(_account: Account, hours: Date[]): Promise<HourStatusCount[]> {
    const wanted = hours.map((h) => h.getTime());
    this.asked.push(wanted);
    return this.rows.filter((row) => wanted.includes(row.hour.getTime()));
  }
}

describe('hourly counts: ended hours whose messages are all final are read once', () => {
  const account: Account = { id: 1, email: 'a@example.com', timezone: 'UTC' };
  const from = new Date(Date.UTC(2026, 11, 6, 0));
  const at = (hours: number) => new Date(from.getTime() + hours * HOUR_MS);
  const now = at(3).getTime() + 30 * 60_000; // 03:30

  it('asks again only for the hours that may still change', async () => {
    const table = new HoursTable([
      { hour: at(0), status: 7, count: 5 },
      { hour: at(0), status: 9, count: 1 },
      { hour: at(1), status: 1, count: 2 }, // still waiting: may move
      { hour: at(2), status: 7, count: 3 }, // ended 30 min ago, all final
      { hour: at(3), status: 7, count: 1 }, // the current hour
    ]);
    const counts = new HourlyCounts(table as unknown as OverviewRepository);
    const first = await counts.since(account, from, now);
    const second = await counts.since(account, from, now);
    expect(table.asked).toEqual([
      [0, 1, 2, 3].map((h) => at(h).getTime()),
      [1, 3].map((h) => at(h).getTime()),
    ]);
    const total = (rows: HourStatusCount[]) => rows.reduce((sum, row) => sum + row.count, 0);
    expect([total(first), total(second)]).toEqual([12, 12]);
  });

  it('keeps an hour open for ten minutes after its end (a late commit may still land in it)', async () => {
    const table = new HoursTable([{ hour: at(2), status: 7, count: 3 }]);
    const counts = new HourlyCounts(table as unknown as OverviewRepository);
    const justAfter = at(3).getTime() + 5 * 60_000;
    await counts.since(account, at(2), justAfter);
    await counts.since(account, at(2), justAfter);
    expect(table.asked).toEqual([
      [at(2).getTime(), at(3).getTime()],
      [at(2).getTime(), at(3).getTime()],
    ]);
  });

  it('counts from the messages only the hours the scheduler has not stored, and keeps the stored ones', async () => {
    const table = new HoursTable(
      [
        { hour: at(0), status: 7, count: 99 }, // stored: never read from the messages
        { hour: at(2), status: 1, count: 2 },
        { hour: at(3), status: 7, count: 1 },
      ],
      { hours: [at(0), at(1)], counts: [{ hour: at(0), status: 7, count: 5 }] }, // 01:00 stored empty
    );
    const counts = new HourlyCounts(table as unknown as OverviewRepository);
    const first = await counts.since(account, from, now);
    const second = await counts.since(account, from, now);
    expect(table.askedStored).toEqual([
      [0, 1, 2, 3].map((h) => at(h).getTime()),
      [2, 3].map((h) => at(h).getTime()),
    ]);
    expect(table.asked).toEqual([[2, 3].map((h) => at(h).getTime()), [2, 3].map((h) => at(h).getTime())]);
    for (const rows of [first, second])
      expect(rows.map((row) => [row.hour.getTime(), row.status, row.count]).sort()).toEqual(
        [
          [at(0).getTime(), 7, 5],
          [at(2).getTime(), 1, 2],
          [at(3).getTime(), 7, 1],
        ].sort(),
      );
  });
});
