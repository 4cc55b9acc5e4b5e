import { FixedOffsetZone, IANAZone, Zone } from 'luxon';
import { ApiError } from './api-error';

/** The zone in which an answer shows dates (and date filters are read), as PHP's DateTimeZone names it. */
export interface CallerZone {
  zone: Zone;
  /** 3: a zone name ("Europe/Paris"); 1: an offset ("+02:00"). */
  timezoneType: 1 | 3;
  /** What PHP prints as `timezone`. */
  name: string;
}

export function namedZone(name: string): CallerZone {
  return { zone: IANAZone.create(name), timezoneType: 3, name };
}

const OFFSET_HOURS = /^([+-]?)(\d{1,2})(?:[.,](\d+))?$/;
const OFFSET_CLOCK = /^([+-])(\d{2}):?(\d{2})$/;

/**
 * `timezone` as clients send it: a zone name (`Australia/Sydney`) or an hour offset (`10`, `+2`, `-5`,
 * `5.5`, `+05:30`). Absent: the account's zone.
 */
export function parseCallerZone(value: string | undefined, accountZone: string): CallerZone {
  const text = value?.trim() ?? '';
  if (text === '') return namedZone(accountZone);
  if (IANAZone.isValidZone(text)) return namedZone(IANAZone.create(text).name);
  let minutes: number | undefined;
  const hours = OFFSET_HOURS.exec(text);
  const clock = OFFSET_CLOCK.exec(text);
  if (hours) {
    const fraction = hours[3] === undefined ? 0 : Number(`0.${hours[3]}`);
    minutes = Math.round((Number(hours[2]) + fraction) * 60) * (hours[1] === '-' ? -1 : 1);
  } else if (clock) {
    minutes = (Number(clock[2]) * 60 + Number(clock[3])) * (clock[1] === '-' ? -1 : 1);
  }
  if (minutes === undefined || Math.abs(minutes) > 14 * 60) {
    throw ApiError.validation(
      `timezone must be a zone name like Europe/Paris or an hour offset like +2 (got ${JSON.stringify(text.slice(0, 40))})`,
    );
  }
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const name = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return { zone: FixedOffsetZone.instance(minutes), timezoneType: 1, name };
}
