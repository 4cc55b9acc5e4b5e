import { DateTime } from 'luxon';
import { CallerZone } from './caller-zone';

/** PHP's DateTime as JSON: `{"date":"2023-11-02 22:44:43.000000","timezone_type":3,"timezone":"Europe/Paris"}`. */
export interface PhpDate {
  date: string;
  timezone_type: 1 | 3;
  timezone: string;
}

export function phpDate(value: Date, zone: CallerZone): PhpDate {
  const local = DateTime.fromJSDate(value, { zone: zone.zone });
  return {
    date: `${local.toFormat('yyyy-MM-dd HH:mm:ss.SSS')}000`,
    timezone_type: zone.timezoneType,
    timezone: zone.name,
  };
}

export function phpDateOrNull(value: Date | null, zone: CallerZone): PhpDate | null {
  return value === null ? null : phpDate(value, zone);
}

/** "28.03.2020 20:10:29", as getalldevices shows dates to people. */
export function humanDate(value: Date, zone: CallerZone): string {
  return DateTime.fromJSDate(value, { zone: zone.zone }).toFormat('dd.MM.yyyy HH:mm:ss');
}
