import { DateTime } from 'luxon';
import { SendHours } from './send-hours';
import { isSimSlot, SimSlot } from './sim-slot';

/** The periods a SIM's quota counts in, in the phone's time zone (its send hours' zone, else UTC; ADR 2201). */
export type QuotaPeriod = 'hour' | 'day' | 'month';
export const QUOTA_PERIODS: readonly QuotaPeriod[] = ['hour', 'day', 'month'];

/** The most messages a SIM may send per period; a period not given has no limit. */
export type SimQuota = Partial<Record<QuotaPeriod, number>>;

/**
 * Per-SIM quotas of a phone (issue 22: SIMs that send too much get blocked): by slot (`"0"`…`"5"`), with
 * `"all"` for every slot not named. A message goes out from its slot (`sim`, 0 when the client gave
 * none), and counts against that slot's quota.
 */
export type SimQuotas = Partial<Record<`${SimSlot}` | 'all', SimQuota>>;

const MAX_QUOTA = 10_000_000;

/** The quota of a slot: its own, else `all`'s; undefined when it has none. */
export function quotaOfSlot(quotas: SimQuotas | undefined, slot: SimSlot): SimQuota | undefined {
  const quota = quotas?.[`${slot}`] ?? quotas?.all;
  return quota && QUOTA_PERIODS.some((period) => quota[period] !== undefined) ? quota : undefined;
}

/**
 * Reads `"0 100/hour 1000/day; 1 50/day; all 20000/month"`: entries apart by `;`, each a slot (0–5, or
 * `all` for the others) and one or more `N/hour`, `N/day`, `N/month`. Answers the quotas or what is wrong.
 */
export function parseSimQuotas(text: string): SimQuotas | string {
  const quotas: SimQuotas = {};
  const entries = text
    .toLowerCase()
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return 'no quotas given (e.g. "0 100/hour 1000/day; 1 50/day")';
  for (const entry of entries) {
    const [slotPart, ...limits] = entry.split(/\s+/);
    const slot =
      slotPart === 'all' ? 'all' : /^[0-5]$/.test(slotPart) ? (slotPart as `${SimSlot}`) : undefined;
    if (!slot) return `"${entry.slice(0, 40)}": start with the SIM slot (0–5) or all`;
    if (quotas[slot]) return `slot ${slot} is given twice`;
    if (limits.length === 0) return `"${entry.slice(0, 40)}": give limits, e.g. 100/hour`;
    const quota: SimQuota = {};
    for (const limit of limits) {
      const match = /^(\d{1,8})\/(hour|day|month)$/.exec(limit);
      const value = match ? Number(match[1]) : NaN;
      if (!match || value < 1 || value > MAX_QUOTA)
        return `"${limit.slice(0, 20)}": a limit is N/hour, N/day or N/month, N from 1 to ${MAX_QUOTA}`;
      const period = match[2] as QuotaPeriod;
      if (quota[period] !== undefined) return `slot ${slot}: ${period} is given twice`;
      quota[period] = value;
    }
    quotas[slot] = quota;
  }
  return quotas;
}

/** The quotas written back the way `parseSimQuotas` reads them. */
export function formatSimQuotas(quotas: SimQuotas): string {
  return (Object.keys(quotas) as Array<keyof SimQuotas>)
    .sort()
    .map((slot) => {
      const quota = quotas[slot] ?? {};
      return [
        slot,
        ...QUOTA_PERIODS.filter((p) => quota[p] !== undefined).map((p) => `${quota[p]}/${p}`),
      ].join(' ');
    })
    .join('; ');
}

/** A value from outside (a pub/sub message, a stored row) that is `SimQuotas`. */
export function isSimQuotas(value: unknown): value is SimQuotas {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(
    ([slot, quota]) =>
      (slot === 'all' || isSimSlot(Number(slot))) &&
      /^(all|[0-5])$/.test(slot) &&
      typeof quota === 'object' &&
      quota !== null &&
      Object.entries(quota).every(
        ([period, limit]) =>
          QUOTA_PERIODS.includes(period as QuotaPeriod) && Number.isInteger(limit) && (limit as number) >= 1,
      ),
  );
}

/** One period a message counts in: its id (part of the counter's key), its start and its end (epoch ms). */
export interface QuotaWindow {
  period: QuotaPeriod;
  id: string;
  start: number;
  end: number;
}

const HOUR_MS = 3_600_000;

/** The zone a phone's quota periods are counted in: its send hours' zone, UTC when it has none (ADR 2201). */
export function quotaZoneOf(sendHours: SendHours | null | undefined): string {
  return sendHours?.zone ?? 'UTC';
}

/**
 * The hour, day and month that `at` falls in, in `zone` (an IANA name; carriers count local days).
 * Days and months run from local midnight to local midnight, so a DST day lasts 23 or 25 hours; an hour
 * starts at a local full hour (at :30 in a +05:30 zone), and the two 01:00 hours of a DST fall-back are
 * told apart by their offset. A zone other than UTC is part of the id: after a change of zone the phone
 * counts in new counters, rebuilt from PostgreSQL for the new periods. UTC ids are the ones used before
 * zones counted, so existing counters carry on.
 */
export function quotaWindows(at: number, zone = 'UTC'): Record<QuotaPeriod, QuotaWindow> {
  const local = DateTime.fromMillis(at, { zone });
  const utc = zone === 'UTC';
  const tag = utc ? '' : `@${zone}`;
  // Arithmetic rather than startOf('hour'): in a fall-back's repeated hour luxon would pick the earlier offset.
  const offsetMs = local.offset * 60_000;
  const hourStart = at - ((((at + offsetMs) % HOUR_MS) + HOUR_MS) % HOUR_MS);
  const hourId = utc
    ? local.toFormat('yyyyMMddHH')
    : `${local.toFormat('yyyyMMddHH')}${local.toFormat('ZZZ')}`;
  const day = local.startOf('day');
  const month = local.startOf('month');
  return {
    hour: { period: 'hour', id: `h${hourId}${tag}`, start: hourStart, end: hourStart + HOUR_MS },
    day: {
      period: 'day',
      id: `d${local.toFormat('yyyyMMdd')}${tag}`,
      start: day.toMillis(),
      end: day.plus({ days: 1 }).startOf('day').toMillis(),
    },
    month: {
      period: 'month',
      id: `m${local.toFormat('yyyyMM')}${tag}`,
      start: month.toMillis(),
      end: month.plus({ months: 1 }).startOf('month').toMillis(),
    },
  };
}
