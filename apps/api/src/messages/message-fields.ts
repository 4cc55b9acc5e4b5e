import { isSimSlot, SimSlot } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { RequestParams } from '../common/request-params';
import { parseClientDate } from './client-date';
import { NewMessages } from './message-intake.service';
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
  // Routing through a pool is designed (ADR 2221) but not built: a message given a pool is refused, never
  // sent to some device the caller did not name.
  if (params.has('pool_id', 'poolid', 'poolId'))
    throw ApiError.validation('pool_id: sending to a pool is not available yet; give device_id');
  const deviceId = params.requiredInt(['device_id', 'deviceid', 'deviceId'], 1, MAX_ID);
  const sendto = params.get('sendto');
  const rawSendto = params.requiredString('sendto', 64 * 1_000);
  const sim = params.optionalInt('sim', 0, 5) ?? 0;
  if (!isSimSlot(sim)) throw ApiError.validation(`sim must be 0–5 (got ${sim})`);
  const timeText = params.optionalString(['timetosend', 'time_to_send'], 40);
  return {
    deviceId,
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
