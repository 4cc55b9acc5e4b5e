import { checkArray, checkInt, countParts, InvalidInput } from '@smsfleet/validation';
import { RequestParams } from '../common/request-params';

/** Pools one account may have, and devices one request may name: a fleet of 1,000 phones in 10–100 pools. */
export const MAX_POOLS_PER_ACCOUNT = 100;
export const MAX_DEVICES_PER_REQUEST = 1_000;
const MAX_NAME = 100;

/** A pool's name: trimmed, 1–100 characters, no control characters. */
export function poolName(params: RequestParams, required: boolean): string | undefined {
  const given = params.get('name');
  if (given === undefined) {
    if (required) throw new InvalidInput('name', 'name is required');
    return undefined;
  }
  if (typeof given.value !== 'string') throw new InvalidInput('name', 'name must be text');
  const name = given.value.trim();
  if (name === '') throw new InvalidInput('name', 'name must not be empty');
  if ([...name].length > MAX_NAME)
    throw new InvalidInput('name', `name is longer than ${MAX_NAME} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw new InvalidInput('name', 'name must not contain control characters');
  return name;
}

/**
 * `device_ids`: a JSON array of ids or comma-separated text (form posts); distinct and sorted (the order the
 * rows are locked in). Absent: undefined, unless required.
 */
export function poolDeviceIds(params: RequestParams, required: boolean): number[] | undefined {
  const given = params.get('device_ids');
  if (given === undefined) {
    if (required) throw new InvalidInput('device_ids', 'device_ids is required');
    return undefined;
  }
  const list = listOf(given.value);
  if (required && list.length === 0)
    throw new InvalidInput('device_ids', 'device_ids needs at least one device id');
  const ids = list.map((value) =>
    checkInt(typeof value === 'string' ? value.trim() : value, 'device_ids', {
      min: 1,
      max: 2_147_483_647,
      numbersAsText: true,
    }),
  );
  return [...new Set(ids)].sort((a, b) => a - b);
}

function listOf(value: unknown): unknown[] {
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return [];
    if (countParts(text, ',', MAX_DEVICES_PER_REQUEST + 1) > MAX_DEVICES_PER_REQUEST)
      throw new InvalidInput('device_ids', `device_ids has more than ${MAX_DEVICES_PER_REQUEST} items`);
    return text.split(',');
  }
  if (typeof value === 'number') return [value];
  return checkArray(value, 'device_ids', { max: MAX_DEVICES_PER_REQUEST });
}

/** A path id; anything but a positive int4 is nobody's. */
export function pathId(id: string): number | undefined {
  if (!/^\d{1,10}$/.test(id)) return undefined;
  const value = Number(id);
  return value >= 1 && value <= 2_147_483_647 ? value : undefined;
}
