import { isSimSlot, SimSlot } from './sim-slot';

/** The periods a SIM's quota counts in, in UTC (a day is a UTC day; docs/api.md). */
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

/** The hour, day and month (UTC) that `at` falls in. */
export function quotaWindows(at: number): Record<QuotaPeriod, QuotaWindow> {
  const date = new Date(at);
  const [y, m, d, h] = [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours()];
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    hour: {
      period: 'hour',
      id: `h${y}${pad(m + 1)}${pad(d)}${pad(h)}`,
      start: Date.UTC(y, m, d, h),
      end: Date.UTC(y, m, d, h + 1),
    },
    day: {
      period: 'day',
      id: `d${y}${pad(m + 1)}${pad(d)}`,
      start: Date.UTC(y, m, d),
      end: Date.UTC(y, m, d + 1),
    },
    month: { period: 'month', id: `m${y}${pad(m + 1)}`, start: Date.UTC(y, m), end: Date.UTC(y, m + 1) },
  };
}
