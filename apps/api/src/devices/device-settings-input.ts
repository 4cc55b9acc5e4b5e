import { parseSendHours, parseSimQuotas, SendHours, SimQuotas } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { RequestParams } from '../common/request-params';

/** The longest gap a pace may ask for (a day), as the single-number form always allowed. */
const MAX_DELAY_SECONDS = 86_400;
const DELAY_NAMES = ['delaybetweeneachsms', 'delay'];

/** A phone's pace: a fixed gap (`max` undefined), or a random one drawn per message in [min, max] seconds. */
export interface PaceInput {
  min: number;
  max?: number;
}

/**
 * `delaybetweeneachsms` as a number (a fixed pace, as always), as `"min-max"` (e.g. `"5-15"`), or a number
 * with `delaybetweeneachsms_max`. A range whose ends are equal is the fixed pace. Absent: unchanged.
 */
export function readPace(params: RequestParams): PaceInput | undefined {
  const found = params.get(...DELAY_NAMES);
  const range =
    typeof found?.value === 'string' ? /^\s*(\d{1,6})\s*[-–]\s*(\d{1,6})\s*$/.exec(found.value) : null;
  let min: number | undefined;
  let max: number | undefined;
  if (range) {
    [min, max] = [Number(range[1]), Number(range[2])];
    if (params.has('delaybetweeneachsms_max'))
      throw ApiError.validation(
        'give a range as delaybetweeneachsms "min-max" or with delaybetweeneachsms_max, not both',
      );
  } else {
    min = params.optionalInt(DELAY_NAMES, 0, MAX_DELAY_SECONDS);
    max = params.optionalInt('delaybetweeneachsms_max', 0, MAX_DELAY_SECONDS);
    if (max !== undefined && min === undefined)
      throw ApiError.validation(
        'delaybetweeneachsms_max needs delaybetweeneachsms (the lower end of the range)',
      );
  }
  if (min === undefined) return undefined;
  for (const value of [min, max])
    if (value !== undefined && value > MAX_DELAY_SECONDS)
      throw ApiError.validation(
        `delaybetweeneachsms must be between 0 and ${MAX_DELAY_SECONDS} seconds (got ${value})`,
      );
  if (max !== undefined && max < min)
    throw ApiError.validation(
      `delaybetweeneachsms range ${min}-${max}: the upper end is below the lower end`,
    );
  return max !== undefined && max > min ? { min, max } : { min };
}

/** Clears the send hours: the phone sends at any hour again. */
const ANY_HOUR = new Set(['', 'always', 'any']);

/**
 * `sendhours` (`"mon-fri 08:00-21:00; sat 10:00-18:00"`, or `always` to clear), read in
 * `sendhours_timezone` (an IANA name; the account's time zone when absent), with `sendhours_urgent` (1:
 * urgent messages go out at any hour). Absent: unchanged. `{ hours: null }`: cleared.
 */
export function readSendHours(
  params: RequestParams,
  accountZone: string,
): { hours: SendHours | null } | undefined {
  const text = params.optionalString('sendhours', 500);
  if (text === undefined) {
    if (params.has('sendhours_timezone') || params.has('sendhours_urgent'))
      throw ApiError.validation(
        'give sendhours with sendhours_timezone and sendhours_urgent (all three are one setting)',
      );
    return undefined;
  }
  if (ANY_HOUR.has(text.trim().toLowerCase())) return { hours: null };
  const zone = params.optionalString('sendhours_timezone', 64)?.trim() || accountZone;
  const hours = parseSendHours(text, zone, params.flag('sendhours_urgent', false));
  if (typeof hours === 'string') throw ApiError.validation(`sendhours: ${hours}`);
  return { hours };
}

/**
 * `simquotas` (`"0 100/hour 1000/day; 1 50/day; all 20000/month"`, or `none` to clear). Absent:
 * unchanged. `{ quotas: null }`: cleared.
 */
export function readSimQuotas(params: RequestParams): { quotas: SimQuotas | null } | undefined {
  const text = params.optionalString('simquotas', 500);
  if (text === undefined) return undefined;
  if (['', 'none'].includes(text.trim().toLowerCase())) return { quotas: null };
  const quotas = parseSimQuotas(text);
  if (typeof quotas === 'string') throw ApiError.validation(`simquotas: ${quotas}`);
  return { quotas };
}
