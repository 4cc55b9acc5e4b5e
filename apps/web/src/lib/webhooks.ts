/**
 * The webhooks page's own logic: what a subscription form sends, and how a delivery's outcome reads.
 * The event types are those of docs/webhooks.md ("Events"); the API refuses any other.
 */
export const WEBHOOK_EVENTS: Array<[string, string]> = [
  ['message.taken', 'taken by the phone'],
  ['message.sent', 'sent'],
  ['message.delivered', 'delivered'],
  ['message.failed', 'failed'],
  ['message.incoming', 'SMS received'],
  ['device.online', 'phone online'],
  ['device.offline', 'phone offline'],
];

export interface WebhookForm {
  url: string;
  description: string;
  events: string[];
  /** Ids of the chosen phones; none chosen: every phone. */
  deviceIds: number[];
}

export interface WebhookBody {
  url: string;
  description: string;
  events: string[];
  device_ids?: number[];
}

/** The body of `POST /v1/webhooks`, or the problems to fix first, in words (the API checks it again). */
export function webhookBody(form: WebhookForm): { body: WebhookBody } | { problems: string[] } {
  const problems: string[] = [];
  const url = form.url.trim();
  if (url === '') problems.push('Give the URL that receives the events.');
  else if (!/^https?:\/\/\S+$/i.test(url)) problems.push('The URL must start with https:// or http://.');
  const events = WEBHOOK_EVENTS.map(([type]) => type).filter((type) => form.events.includes(type));
  if (events.length === 0) problems.push('Choose at least one event.');
  if (problems.length > 0) return { problems };
  return {
    body: {
      url,
      description: form.description.trim(),
      events,
      ...(form.deviceIds.length > 0
        ? { device_ids: [...new Set(form.deviceIds)].sort((a, b) => a - b) }
        : {}),
    },
  };
}

export interface DeliveryOutcome {
  status: 'pending' | 'failed' | 'delivered' | 'dead';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
}

/** One line on what the receiver last did with a delivery. */
export function lastAnswer(delivery: DeliveryOutcome): string {
  if (delivery.attempts === 0) return 'not tried yet';
  const answer =
    delivery.last_status_code !== null
      ? `HTTP ${delivery.last_status_code}`
      : (delivery.last_error ?? 'no answer');
  return delivery.last_latency_ms !== null ? `${answer} in ${delivery.last_latency_ms} ms` : answer;
}

export const DELIVERY_STATUS_TITLES: Record<DeliveryOutcome['status'], string> = {
  pending: 'Pending',
  failed: 'Failed, retrying',
  delivered: 'Delivered',
  dead: 'Given up',
};

/** The pill colour of a delivery's status, as the message tables colour theirs. */
export function deliveryTone(status: DeliveryOutcome['status']): 'ok' | 'bad' | 'wait' | 'busy' {
  if (status === 'delivered') return 'ok';
  if (status === 'pending') return 'wait';
  if (status === 'failed') return 'busy';
  return 'bad';
}
