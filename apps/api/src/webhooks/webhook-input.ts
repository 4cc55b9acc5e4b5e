import {
  checkArray,
  checkInt,
  checkOneOf,
  checkOptionalText,
  countParts,
  InvalidInput,
} from '@smsfleet/validation';
import {
  AddressPolicy,
  MAX_BATCH_EVENTS,
  parseWebhookUrl,
  WEBHOOK_EVENT_TYPES,
  WebhookEventType,
} from '@smsfleet/webhooks';
import { RequestParams } from '../common/request-params';

/** Devices one subscription may name; more is a filter nobody needs (subscribe to all instead). */
export const MAX_WEBHOOK_DEVICES = 1_000;
const MAX_DESCRIPTION = 200;
/** Longest grace period of a rotated secret (7 days) and its default (24 h). */
export const MAX_GRACE_SECONDS = 7 * 86_400;
export const DEFAULT_GRACE_SECONDS = 86_400;

export interface WebhookFields {
  url?: string;
  events?: WebhookEventType[];
  /** null: every device of the account. */
  deviceIds?: number[] | null;
  description?: string;
  /** Events per POST (a receiver's opt-in), 1 to MAX_BATCH_EVENTS; 1, the default, sends each alone. */
  batchSize?: number;
  paused?: boolean;
}

/**
 * The subscription fields of a request, each optional (a creation checks the required ones). A list is a
 * JSON array or comma-separated text (form posts); every value is checked before anything is written.
 */
export function webhookFields(params: RequestParams, policy: AddressPolicy): WebhookFields {
  const fields: WebhookFields = {};
  const url = params.get('url');
  if (url !== undefined) fields.url = checkedUrl(url.value, policy);
  const events = params.get('events');
  if (events !== undefined) {
    const list = listOf(events.value, 'events', WEBHOOK_EVENT_TYPES.length);
    if (list.length === 0) throw new InvalidInput('events', 'events needs at least one event type');
    fields.events = [
      ...new Set(list.map((value) => checkOneOf(trimmed(value), 'events', WEBHOOK_EVENT_TYPES))),
    ];
  }
  // An empty list (or "all") means every device of the account, now and later.
  const devices = params.get('device_ids');
  if (devices !== undefined) {
    const list = listOf(devices.value, 'device_ids', MAX_WEBHOOK_DEVICES);
    const ids = list.map((value) =>
      checkInt(trimmed(value), 'device_ids', { min: 1, max: 2_147_483_647, numbersAsText: true }),
    );
    fields.deviceIds = ids.length === 0 ? null : [...new Set(ids)].sort((a, b) => a - b);
  }
  const description = params.get('description');
  if (description !== undefined)
    fields.description = checkOptionalText(description.value, 'description', { max: MAX_DESCRIPTION }) ?? '';
  const batchSize = params.get('batch_size');
  if (batchSize !== undefined)
    fields.batchSize = checkInt(trimmed(batchSize.value), 'batch_size', {
      min: 1,
      max: MAX_BATCH_EVENTS,
      numbersAsText: true,
    });
  if (params.has('paused')) fields.paused = params.flag('paused', false);
  return fields;
}

/** A URL through parseWebhookUrl; an IP literal the address policy refuses is refused now. */
export function checkedUrl(value: unknown, policy: AddressPolicy): string {
  const url = parseWebhookUrl(value, 'url');
  if (url.ipFamily !== 0) {
    const verdict = policy.check(url.hostname);
    if (!verdict.allowed)
      throw new InvalidInput('url', `url points to a ${verdict.reason}, which webhooks may not be sent to`);
  }
  return url.href;
}

/** A JSON array, or text separated by commas ("" and "all" mean an empty list). */
function listOf(value: unknown, field: string, max: number): unknown[] {
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '' || text.toLowerCase() === 'all') return [];
    if (countParts(text, ',', max + 1) > max)
      throw new InvalidInput(field, `${field} has more than ${max} items`);
    return text.split(',');
  }
  if (typeof value === 'number') return [value];
  return checkArray(value, field, { max });
}

function trimmed(value: unknown): unknown {
  return typeof value === 'string' ? value.trim() : value;
}
