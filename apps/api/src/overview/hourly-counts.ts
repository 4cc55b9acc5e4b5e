import { Injectable } from '@nestjs/common';
import { Account, TtlCache } from '@smsfleet/auth';
import { isFinalStatus } from '@smsfleet/contracts';
import { CLOSED_HOURS_KEPT_MS, HOUR_CLOSING_MARGIN_MS, HourStatusCount } from '@smsfleet/persistence';
import { OverviewRepository } from './overview.repository';

export const HOUR_MS = 3_600_000;
const CLOSED_HOURS_MAX = 200_000;

/**
 * The overview's counts per hour and status. An hour that has ended and whose messages all have a final
 * status never changes again: a message is created at the current time, a final status is never replaced
 * (docs/api.md), and after MESSAGE_VALIDITY_SECONDS + MESSAGE_REPORT_TIMEOUT_SECONDS every message is final
 * (the expiry sweep). Such hours are kept in this process, so that the 7-day chart reads PostgreSQL only
 * for the hours that may still move — the last two days in the default configuration. An hour this
 * process has not seen yet is first looked for among the hours the scheduler stored (the same rule,
 * libs/persistence/src/messages/hour-counts.ts): only hours stored nowhere are counted from the messages,
 * so a fresh api or a new replica does not read a week of them.
 */
@Injectable()
export class HourlyCounts {
  private readonly closed = new TtlCache<string, Array<{ status: number; count: number }>>(
    CLOSED_HOURS_KEPT_MS,
    CLOSED_HOURS_MAX,
  );

  constructor(private readonly overview: OverviewRepository) {}

  /** Every hour from `from` (an hour's start) to the current one. */
  async since(account: Account, from: Date, now = Date.now()): Promise<HourStatusCount[]> {
    const counts: HourStatusCount[] = [];
    const open: Date[] = [];
    for (let at = from.getTime(); at <= now; at += HOUR_MS) {
      const kept = this.closed.get(`${account.id}:${at}`, now);
      if (kept) for (const row of kept) counts.push({ hour: new Date(at), ...row });
      else open.push(new Date(at));
    }
    // Hours the scheduler stored are closed: kept here as well, counted from the messages no more.
    const stored = await this.overview.storedHours(account, open);
    const storedRows = new Map<number, Array<{ status: number; count: number }>>(
      stored.hours.map((h) => [h.getTime(), []]),
    );
    for (const row of stored.counts) {
      storedRows.get(row.hour.getTime())?.push({ status: row.status, count: row.count });
      counts.push(row);
    }
    for (const [at, rows] of storedRows) this.closed.set(`${account.id}:${at}`, rows, now);
    const live = open.filter((h) => !storedRows.has(h.getTime()));
    const fresh = await this.overview.byHourAndStatus(account, live);
    const byHour = new Map<number, Array<{ status: number; count: number }>>(
      live.map((h) => [h.getTime(), []]),
    );
    for (const row of fresh) {
      byHour.get(new Date(row.hour).getTime())?.push({ status: row.status, count: row.count });
      counts.push(row);
    }
    for (const [at, rows] of byHour)
      if (at + HOUR_MS + HOUR_CLOSING_MARGIN_MS <= now && rows.every((row) => isFinalStatus(row.status)))
        this.closed.set(`${account.id}:${at}`, rows, now);
    return counts;
  }
}
