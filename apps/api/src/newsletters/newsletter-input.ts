import { DateTime, Zone } from 'luxon';
import { countParts } from '@smsfleet/validation';
import { ApiError } from '../common/api-error';
import { parseClientDate } from '../messages/client-date';

const MAX_ID = 2_147_483_647;
const MAX_TAGS = 1_000;
const EUROPEAN_FORMATS = ['d.M.yyyy H:mm:ss', 'd.M.yyyy H:mm', 'd.M.yyyy'];

/**
 * `time_to_send` of a newsletter: `DD.MM.YYYY H:i:s` as the original documents it, the API's usual
 * `YYYY-MM-DD HH:MM:SS`, or a Unix time in seconds (the field is typed int there). Absent, empty or 0:
 * undefined, meaning now.
 */
export function parseNewsletterTime(value: string | undefined, zone: string | Zone): Date | undefined {
  const text = value?.trim() ?? '';
  if (text === '' || text === '0') return undefined;
  if (/^\d{9,10}$/.test(text)) return new Date(Number(text) * 1_000);
  for (const format of EUROPEAN_FORMATS) {
    const parsed = DateTime.fromFormat(text, format, { zone });
    if (parsed.isValid && parsed.year >= 1970) return parsed.toJSDate();
  }
  try {
    return parseClientDate(text, zone, 'time_to_send');
  } catch {
    throw ApiError.validation(
      `time_to_send must be a date like 29.05.2026 17:21:27 (or 0 for now; got ${JSON.stringify(text.slice(0, 40))})`,
    );
  }
}

/** "12,13,14" → [12, 13, 14], each once. */
export function parseTagIds(text: string): number[] {
  if (countParts(text, ',', MAX_TAGS + 1) > MAX_TAGS)
    throw ApiError.validation(`tags has more than ${MAX_TAGS} ids; at most ${MAX_TAGS}`);
  const parts = text.split(',').map((part) => part.trim());
  const ids = parts.map((part) => {
    if (!/^\d{1,10}$/.test(part) || Number(part) < 1 || Number(part) > MAX_ID)
      throw ApiError.validation(
        `tags must be tag ids separated by commas, like 12,13,14 (got ${JSON.stringify(part.slice(0, 20))})`,
      );
    return Number(part);
  });
  return [...new Set(ids)];
}
