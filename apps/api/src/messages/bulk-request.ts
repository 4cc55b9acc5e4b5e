import { ApiError } from '../common/api-error';
import { describeItemErrors, ItemError } from '../common/item-errors';
import { RequestParams } from '../common/request-params';
import { NewMessage } from './message-intake.service';
import { readMessageFields } from './message-fields';
import { recipientCount } from './recipients';

export const MAX_BULK_ITEMS = 10_000;

/**
 * `addalotofsms` arrives as a `datajson` field holding `{"token":…,"smsdata":[…]}` (a JSON string, or an
 * object in a JSON body), or as that object itself as the JSON body (the npm client). Returns the
 * parameters with the wrapper's fields merged in, so that `token` is found inside it.
 */
export function unwrapDatajson(params: RequestParams): RequestParams {
  const wrapper = params.get('datajson');
  if (wrapper !== undefined) {
    let value = wrapper.value;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch (error) {
        throw ApiError.validation(`datajson is not valid JSON (${(error as Error).message})`);
      }
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw ApiError.validation('datajson must be a JSON object {"token":"…","smsdata":[…]}');
    return params.extend(value as Record<string, unknown>, wrapper.source);
  }
  return params;
}

export interface SmsData {
  items: unknown[];
  /** The items came in a GET query string, where an unencoded `+` became a space. */
  fromQueryString: boolean;
}

/** The raw items of `smsdata` (a list, or a list as JSON text in a form). */
export function readSmsData(params: RequestParams): SmsData {
  const found = params.get('smsdata');
  let items = found?.value;
  if (items === undefined) throw ApiError.validation('datajson (or smsdata) is required');
  if (typeof items === 'string') {
    try {
      items = JSON.parse(items);
    } catch (error) {
      throw ApiError.validation(`smsdata is not valid JSON (${(error as Error).message})`);
    }
  }
  if (!Array.isArray(items)) throw ApiError.validation('smsdata must be a list of messages');
  if (items.length === 0) throw ApiError.validation('smsdata is empty');
  if (items.length > MAX_BULK_ITEMS)
    throw ApiError.validation(`smsdata has ${items.length} items; at most ${MAX_BULK_ITEMS} per request`);
  return { items, fromQueryString: found?.source === 'query' };
}

/**
 * Every item validated; all-or-nothing: any bad item rejects the request, naming each bad one. The cap on
 * messages (items may hold several numbers each) is counted as the items are read, before any work per
 * recipient: a request over it is refused at the item that passes it.
 */
export function readBulkItems(
  { items, fromQueryString }: SmsData,
  timezone: string,
  maxBodyLength: number,
): NewMessage[] {
  const errors: ItemError[] = [];
  const messages: NewMessage[] = [];
  let recipients = 0;
  for (const [index, item] of items.entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      errors.push({ index, field: 'item', message: 'must be an object {sendto, body, device_id, …}' });
      continue;
    }
    const remaining = MAX_BULK_ITEMS - recipients;
    recipients += recipientCount((item as Record<string, unknown>).sendto, remaining + 1);
    if (recipients > MAX_BULK_ITEMS)
      throw ApiError.validation(
        `smsdata makes more than ${MAX_BULK_ITEMS} messages (item ${index} passes the cap); at most ${MAX_BULK_ITEMS} per request`,
      );
    try {
      const itemParams = fromQueryString
        ? new RequestParams(item, undefined)
        : new RequestParams(undefined, item);
      const fields = readMessageFields(itemParams, timezone, maxBodyLength);
      for (const recipient of fields.recipients) messages.push({ ...fields, recipient });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      errors.push({ index, field: fieldOf(error.message), message: error.message });
    }
  }
  if (errors.length > 0) throw new ApiError('validation', describeItemErrors(errors), errors);
  return messages;
}

/** Validation messages start with the field's name. */
function fieldOf(message: string): string {
  return /^[a-z_]+/i.exec(message)?.[0] ?? 'item';
}
