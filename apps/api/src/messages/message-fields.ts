import { isSimSlot, SimSlot } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { RequestParams } from '../common/request-params';
import { parseClientDate } from './client-date';
import { MessageTarget, NewMessages } from './message-intake.service';
import { parseRecipients } from './recipients';

const MAX_ID = 2_147_483_647;

/**
 * Reads the fields of one message (addsms, or one addalotofsms item); the first bad field throws.
 * With `bodyFromFile` the body may be absent: an uploaded image's URL becomes the body.
 */
export function readMessageFields(
  params: RequestParams,
  timezone: string,
  maxBodyLength: number,
  bodyFromFile = false,
): NewMessages {
  const target = readTarget(params);
  const sendto = params.get('sendto');
  const rawSendto = params.requiredString('sendto', 64 * 1_000);
  const sim = params.optionalInt('sim', 0, 5) ?? 0;
  if (!isSimSlot(sim)) throw ApiError.validation(`sim must be 0–5 (got ${sim})`);
  const timeText = params.optionalString(['timetosend', 'time_to_send'], 40);
  return {
    ...target,
    recipients: parseRecipients(rawSendto, sendto?.source === 'query'),
    body: bodyFromFile
      ? (params.optionalString('body', maxBodyLength) ?? '')
      : params.requiredString('body', maxBodyLength),
    sim: sim as SimSlot,
    urgent: params.flag('urgent', false),
    customerId: params.optionalInt(['customerid', 'customerId', 'customer_id'], 0, Number.MAX_SAFE_INTEGER),
    timeToSend: timeText === undefined ? undefined : parseClientDate(timeText, timezone, 'timetosend'),
  };
}

/**
 * `device_id` (pinned to that phone) or `pool_id` (a phone of that pool, chosen by routing; ADR 2221), never
 * both: a message sent to a pool must not also claim a phone. An empty field counts as absent (forms).
 */
function readTarget(params: RequestParams): MessageTarget {
  const poolId = params.optionalInt(POOL_ID, 1, MAX_ID);
  const deviceId = params.optionalInt(DEVICE_ID, 1, MAX_ID);
  if (poolId !== undefined && deviceId !== undefined)
    throw ApiError.validation(
      'pool_id and device_id exclude each other: give device_id to pin the message to one phone, or pool_id to let the pool choose',
    );
  if (poolId !== undefined) return { poolId };
  if (deviceId === undefined)
    throw ApiError.validation('device_id is required (or pool_id, one of your pools)');
  return { deviceId };
}

const DEVICE_ID = ['device_id', 'deviceid', 'deviceId'];
const POOL_ID = ['pool_id', 'poolid', 'poolId'];
