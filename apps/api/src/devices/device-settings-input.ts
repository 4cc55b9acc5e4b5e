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
