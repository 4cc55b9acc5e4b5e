import { DateTime } from 'luxon';
import { ApiError } from '../common/api-error';
import { CallerZone, parseCallerZone } from '../common/caller-zone';
import { RequestParams } from '../common/request-params';
import { parseClientDate } from './client-date';
import { normalisePhone } from '@smsfleet/contracts';
import type { MessageListFilter } from '@smsfleet/persistence';

export const DEFAULT_LIST_LIMIT = 1_000;
export const MAX_LIST_LIMIT = 10_000;
/**
 * How deep a listing reaches: offset + limit at most this, and `count` counted up to it. Each page costs
 * PostgreSQL its offset's rows; beyond this a client narrows by date instead.
 */
export const MAX_LIST_DEPTH = 1_000_000;
const MAX_ID = 2_147_483_647;

/**
 * What getallsms and /v1/messages ask for, validated: the predicates the SQL narrows by (a date-only
 * `enddate` covers its whole day; a number without `+` also matches its international form), and the page.
 */
export interface MessageFilter extends MessageListFilter {
  onlyCount: boolean;
  limit: number;
  offset: number;
  zone: CallerZone;
}

export function readMessageFilter(params: RequestParams, accountZone: string): MessageFilter {
  const zone = parseCallerZone(params.optionalString(['timezone', 'tz'], 64), accountZone);
  const beginText = params.optionalString(['begindate', 'beginDate'], 40);
  const endText = params.optionalString(['enddate', 'endDate'], 40);
  const from = beginText === undefined ? undefined : parseClientDate(beginText, zone.zone, 'begindate');
  let until = endText === undefined ? undefined : parseClientDate(endText, zone.zone, 'enddate');
  if (until !== undefined && endText !== undefined) {
    // Both ends included: a date-only end means the whole day, a time means up to and including that second.
    const dateOnly = /^\s*\d{4}-\d{2}-\d{2}\s*$/.test(endText);
    until = DateTime.fromJSDate(until, { zone: zone.zone })
      .plus(dateOnly ? { days: 1 } : { seconds: 1 })
      .toJSDate();
  }
  if (from !== undefined && until !== undefined && from >= until)
    throw ApiError.validation('begindate must be before enddate');
  const limit = params.optionalInt('limit', 1, MAX_LIST_LIMIT) ?? DEFAULT_LIST_LIMIT;
  const offset = params.optionalInt('offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  if (offset + limit > MAX_LIST_DEPTH)
    throw ApiError.validation(
      `offset + limit may reach ${MAX_LIST_DEPTH} rows at most (got ${offset + limit}); narrow by begindate/enddate instead`,
    );
  return {
    deviceId: params.optionalInt(['device_id', 'deviceid', 'deviceId'], 1, MAX_ID),
    status: params.optionalInt('status', 0, 32_767),
    from,
    until,
    sim: params.optionalInt('sim', 0, 5),
    customerId: params.optionalInt(['customerid', 'customerId', 'customer_id'], 0, Number.MAX_SAFE_INTEGER),
    phones: readPhone(params),
    onlyCount: params.flag('onlycount', false),
    descending: params.flag('orderbydesc', false),
    limit,
    offset,
    zone,
  };
}

function readPhone(params: RequestParams): string[] | undefined {
  const found = params.get('phone');
  const text = params.optionalString('phone', 64);
  if (text === undefined || text.trim() === '') return undefined;
  // A `+` in a GET query may have arrived as a space.
  const restored = found?.source === 'query' && /^ \d/.test(text) ? `+${text.slice(1)}` : text;
  const phone = normalisePhone(restored);
  if (phone === undefined)
    throw ApiError.validation(
      `phone "${text.slice(0, 40)}" is not a phone number (digits, optionally a leading +)`,
    );
  return phone.startsWith('+') ? [phone] : [phone, `+${phone}`];
}
