import { DateTime, Zone } from 'luxon';
import { ApiError } from '../common/api-error';

const FORMATS = [
  'yyyy-MM-dd HH:mm:ss',
  "yyyy-MM-dd'T'HH:mm:ss",
  'yyyy-MM-dd HH:mm',
  "yyyy-MM-dd'T'HH:mm",
  'yyyy-MM-dd',
];

/**
 * Reads a client's date (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS`) in the given IANA zone.
 * `0` or an empty value means "no date".
 */
export function parseClientDate(value: string, zone: string | Zone, field: string): Date | undefined {
  const text = value.trim();
  if (text === '' || text === '0') return undefined;
  for (const format of FORMATS) {
    const parsed = DateTime.fromFormat(text, format, { zone });
    if (parsed.isValid) {
      if (parsed.year < 1970 || parsed.year > 9999) break;
      return parsed.toJSDate();
    }
  }
  throw ApiError.validation(
    `${field} must be a date like 2026-05-29 17:21:27 (got ${JSON.stringify(text.slice(0, 40))})`,
  );
}

/** When a message is due: a time in the past, or none, means now. */
export function dueTime(timeToSend: Date | undefined, now: Date): Date {
  return timeToSend === undefined || timeToSend.getTime() < now.getTime() ? now : timeToSend;
}
