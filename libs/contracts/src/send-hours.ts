import { DateTime, IANAZone } from 'luxon';

/**
 * The hours a phone may send in, in its own time zone, per weekday (issue 22: SIMs that send at night
 * get blocked). A message due outside them waits for the next opening; `urgent` lets urgent messages
 * through at any hour.
 */
export interface SendHours {
  /** IANA time zone name, e.g. "Europe/Berlin". */
  zone: string;
  /** Monday first (ISO weekday 1 at index 0): minute ranges [start, end) of the local day, sorted, apart. */
  days: Array<Array<[number, number]>>;
  urgent: boolean;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MINUTES_PER_DAY = 1_440;

/** Whether `zone` is an IANA time zone luxon knows (and so every app reads the same). */
export function isTimeZone(zone: string): boolean {
  return zone.length <= 64 && IANAZone.isValidZone(zone);
}

/**
 * Reads `"mon-fri 08:00-21:00; sat 10:00-18:00"`: entries apart by `;` (or `,`), each one day (`mon`), a
 * run of days (`mon-fri`, `fri-mon` wraps) or `daily`, then one or more `HH:MM-HH:MM` (end after start;
 * `24:00` is the end of the day). Days not named: no sending. Answers the hours, or what is wrong.
 */
export function parseSendHours(text: string, zone: string, urgent: boolean): SendHours | string {
  if (!isTimeZone(zone))
    return `unknown time zone ${JSON.stringify(zone.slice(0, 64))} (an IANA name, e.g. Europe/Berlin)`;
  const days: Array<Array<[number, number]>> = DAY_NAMES.map(() => []);
  const entries = text
    .toLowerCase()
    .split(/[;,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return 'no hours given (e.g. "mon-fri 08:00-21:00; sat 10:00-18:00")';
  for (const entry of entries) {
    const [dayPart, ...rangeParts] = entry.split(/\s+/);
    const dayIndexes = daysOf(dayPart);
    if (!dayIndexes) return `"${entry.slice(0, 40)}": days must be mon…sun, a run like mon-fri, or daily`;
    if (rangeParts.length === 0) return `"${entry.slice(0, 40)}": give hours, e.g. 08:00-21:00`;
    for (const part of rangeParts) {
      const range = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(part);
      const start = range ? minutesOf(range[1], range[2]) : undefined;
      const end = range ? minutesOf(range[3], range[4]) : undefined;
      if (start === undefined || end === undefined)
        return `"${part.slice(0, 20)}": hours are HH:MM-HH:MM between 00:00 and 24:00`;
      if (end <= start)
        return `"${part.slice(0, 20)}": the end must come after the start (split a range across midnight in two days)`;
      for (const day of dayIndexes) days[day].push([start, end]);
    }
  }
  return { zone, days: days.map(merged), urgent };
}

function daysOf(part: string): number[] | undefined {
  if (part === 'daily') return [0, 1, 2, 3, 4, 5, 6];
  const [from, to, extra] = part.split('-');
  if (extra !== undefined) return undefined;
  const first = DAY_NAMES.indexOf(from);
  const last = to === undefined ? first : DAY_NAMES.indexOf(to);
  if (first < 0 || last < 0) return undefined;
  const indexes = [first];
  for (let day = first; day !== last;) indexes.push((day = (day + 1) % 7));
  return indexes;
}

function minutesOf(hours: string, minutes: string): number | undefined {
  const value = Number(hours) * 60 + Number(minutes);
  return Number(minutes) < 60 && value <= MINUTES_PER_DAY ? value : undefined;
}

function merged(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** The hours written back the way `parseSendHours` reads them, one entry per day that has any. */
export function formatSendHours(hours: SendHours): string {
  const clock = (minutes: number) =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return hours.days
    .map((ranges, day) =>
      ranges.length === 0
        ? undefined
        : `${DAY_NAMES[day]} ${ranges.map(([start, end]) => `${clock(start)}-${clock(end)}`).join(' ')}`,
    )
    .filter((entry): entry is string => entry !== undefined)
    .join('; ');
}

/** Whether sending is allowed at `at` (epoch ms). */
export function isWithinSendHours(hours: SendHours, at: number): boolean {
  const local = DateTime.fromMillis(at, { zone: hours.zone });
  const minute = local.hour * 60 + local.minute;
  return hours.days[local.weekday - 1].some(([start, end]) => minute >= start && minute < end);
}

/**
 * The first moment at or after `at` (epoch ms) when sending is allowed; `at` itself inside the hours.
 * Every stored `SendHours` has a range (the parser refuses none), so one is found within a week.
 */
export function nextSendOpening(hours: SendHours, at: number): number {
  if (isWithinSendHours(hours, at)) return at;
  const startOfToday = DateTime.fromMillis(at, { zone: hours.zone }).startOf('day');
  for (let offset = 0; offset <= 7; offset++) {
    const day = startOfToday.plus({ days: offset });
    for (const [start] of hours.days[day.weekday - 1]) {
      // Set by wall clock: a start that falls in a DST gap moves to the next valid instant.
      const opening = day.set({ hour: Math.floor(start / 60), minute: start % 60 }).toMillis();
      if (opening > at) return opening;
    }
  }
  return at + 7 * 86_400_000;
}

/** A value from outside (a pub/sub message, a stored row) that is a `SendHours`. */
export function isSendHours(value: unknown): value is SendHours {
  const hours = value as Partial<SendHours> | null;
  return (
    typeof hours === 'object' &&
    hours !== null &&
    typeof hours.zone === 'string' &&
    isTimeZone(hours.zone) &&
    typeof hours.urgent === 'boolean' &&
    Array.isArray(hours.days) &&
    hours.days.length === 7 &&
    hours.days.every(
      (ranges) =>
        Array.isArray(ranges) &&
        ranges.every(
          (range) =>
            Array.isArray(range) &&
            range.length === 2 &&
            Number.isInteger(range[0]) &&
            Number.isInteger(range[1]) &&
            range[0] >= 0 &&
            range[0] < range[1] &&
            range[1] <= MINUTES_PER_DAY,
        ),
    ) &&
    hours.days.some((ranges) => ranges.length > 0)
  );
}
