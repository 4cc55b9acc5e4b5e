import { Injectable } from '@nestjs/common';
import { Account, TtlCache } from '@smsfleet/auth';
import { isFinalStatus } from '@smsfleet/contracts';
import { HourStatusCount } from '@smsfleet/persistence';
import { OverviewRepository } from './overview.repository';

export const HOUR_MS = 3_600_000;
/**
 * An hour is closed once it ended this long ago: no transaction that gave a message a creation time in it
 * is still uncommitted (statements end within API_STATEMENT_TIMEOUT_MS), whatever the clocks' skew.
 */
const CLOSING_MARGIN_MS = 10 * 60_000;
/** Long enough for the 7-day chart; about 170 hours per account. */
const CLOSED_HOURS_KEPT_MS = 8 * 24 * HOUR_MS;
const CLOSED_HOURS_MAX = 200_000;

/**
 * The overview's counts per hour and status. An hour that has ended and whose messages all have a final
 * status never changes again: a message is created at the current time, a final status is never replaced
 * (docs/api.md), and after MESSAGE_VALIDITY_SECONDS + MESSAGE_REPORT_TIMEOUT_SECONDS every message is final
 * (the expiry sweep). Such hours are kept in this process, so that the 7-day chart reads PostgreSQL only
 * for the hours that may still move — the last two days in the default configuration.
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
    const fresh = await this.overview.byHourAndStatus(account, open);
    const byHour = new Map<number, Array<{ status: number; count: number }>>(
      open.map((h) => [h.getTime(), []]),
    );
    for (const row of fresh) {
      byHour.get(new Date(row.hour).getTime())?.push({ status: row.status, count: row.count });
      counts.push(row);
    }
    for (const [at, rows] of byHour)
      if (at + HOUR_MS + CLOSING_MARGIN_MS <= now && rows.every((row) => isFinalStatus(row.status)))
        this.closed.set(`${account.id}:${at}`, rows, now);
    return counts;
  }
}
