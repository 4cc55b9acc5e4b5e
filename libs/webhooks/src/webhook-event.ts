import { randomUUID } from 'node:crypto';
import { isFailureStatus, MessageStatus, MESSAGE_STATUS_TITLES, statusTitle } from '@smsfleet/contracts';

export const MESSAGE_EVENT_TYPES = [
  'message.taken',
  'message.sent',
  'message.delivered',
  'message.failed',
  'message.incoming',
] as const;
export const DEVICE_EVENT_TYPES = ['device.online', 'device.offline'] as const;
export const WEBHOOK_EVENT_TYPES = [...MESSAGE_EVENT_TYPES, ...DEVICE_EVENT_TYPES] as const;

export type MessageEventType = (typeof MESSAGE_EVENT_TYPES)[number];
export type DeviceEventType = (typeof DEVICE_EVENT_TYPES)[number];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * A message as getallsms lists it (same keys, docs/api.md), with times in ISO 8601 UTC as the /v1 routes
 * give them (a webhook has no caller to ask for a zone), plus what a receiver needs to order and explain
 * events: `statuserror` and the time of each step.
 */
export interface WebhookMessageData {
  id: number;
  /** The recipient; for an incoming SMS (status 5), its sender. */
  sendto: string;
  body: string;
  customerid: number | null;
  /** The status this event reports (not the message's status when the event is sent). */
  status: number;
  statustitle: string;
  /** Why it failed (a phone's refusal reason, which report was missing), when we know. */
  statuserror: string | null;
  deviceid: number;
  sim: number;
  urgent: 0 | 1;
  created: string;
  senttime: string | null;
  timetosend: string;
  paketid: number | null;
  pakettitle: string | null;
  paketbody: string | null;
  /** When each step happened; later steps are null in an earlier event. */
  times: { taken: string | null; sent: string | null; delivered: string | null; failed: string | null };
}

/** `message.incoming`: the message shape, with the sender under its own name too. */
export interface WebhookIncomingData extends WebhookMessageData {
  from: string;
}

/** `device.online` / `device.offline`, in getdevicestatus's terms. */
export interface WebhookDeviceData {
  device_id: number;
  title: string;
  online: boolean;
  /** Last contact, ISO 8601 UTC. */
  lastseen: string;
}

export interface WebhookEventDataOf {
  'message.taken': WebhookMessageData;
  'message.sent': WebhookMessageData;
  'message.delivered': WebhookMessageData;
  'message.failed': WebhookMessageData;
  'message.incoming': WebhookIncomingData;
  'device.online': WebhookDeviceData;
  'device.offline': WebhookDeviceData;
}

/** The JSON body of a delivery (one event). `id` is the same on every retry: receivers dedupe on it. */
export interface WebhookEvent<T extends WebhookEventType = WebhookEventType> {
  id: string;
  type: T;
  /** When the change happened (the status's time), ISO 8601 UTC. */
  occurred_at: string;
  account_id: number;
  data: WebhookEventDataOf[T];
}

/** The event a message status reports; undefined for statuses that are not news (New, Queued). */
export function messageEventType(status: number): MessageEventType | undefined {
  switch (status) {
    case MessageStatus.TakenFromServer:
      return 'message.taken';
    case MessageStatus.SentByPhone:
      return 'message.sent';
    case MessageStatus.Delivered:
      return 'message.delivered';
    case MessageStatus.Income:
      return 'message.incoming';
    default:
      return isFailureStatus(status) ? 'message.failed' : undefined;
  }
}

/** Every code a `message.failed` may carry, with its text (for the docs and the OpenAPI description). */
export function failureCodes(): Array<{ code: number; text: string }> {
  return Object.entries(MESSAGE_STATUS_TITLES)
    .map(([code, text]) => ({ code: Number(code), text }))
    .filter(({ code }) => isFailureStatus(code))
    .sort((a, b) => a.code - b.code);
}

/** A message row as the status writer or the incoming SMS path reads it in its transaction. */
export interface WebhookMessageRow {
  id: number | string;
  sendto: string;
  body: string;
  customer_id: number | string | null;
  status: number;
  status_error: string | null;
  device_id: number;
  sim: number;
  urgent: boolean;
  created_at: Date;
  time_to_send: Date;
  taken_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  newsletter_id: number | null;
  newsletter_title: string | null;
  newsletter_body: string | null;
}

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

export function messageEventData(row: WebhookMessageRow): WebhookMessageData {
  return {
    id: Number(row.id),
    sendto: row.sendto,
    body: row.body,
    customerid: row.customer_id === null ? null : Number(row.customer_id),
    status: row.status,
    statustitle: statusTitle(row.status),
    statuserror: row.status_error,
    deviceid: row.device_id,
    sim: row.sim,
    urgent: row.urgent ? 1 : 0,
    created: row.created_at.toISOString(),
    senttime: iso(row.sent_at),
    timetosend: row.time_to_send.toISOString(),
    paketid: row.newsletter_id,
    pakettitle: row.newsletter_title,
    paketbody: row.newsletter_body,
    times: {
      taken: iso(row.taken_at),
      sent: iso(row.sent_at),
      delivered: iso(row.delivered_at),
      failed: iso(row.failed_at),
    },
  };
}

/**
 * The event reporting `row`'s current status, or undefined when that status is not news. Built in the
 * transaction that made the change, so `id` is fixed before the first delivery and every retry repeats it.
 */
export function messageEvent(
  row: WebhookMessageRow,
  accountId: number,
  occurredAt: Date,
  id: string = randomUUID(),
): WebhookEvent<MessageEventType> | undefined {
  const type = messageEventType(row.status);
  if (type === undefined) return undefined;
  const data = messageEventData(row);
  return {
    id,
    type,
    occurred_at: occurredAt.toISOString(),
    account_id: accountId,
    data: type === 'message.incoming' ? { ...data, from: row.sendto } : data,
  };
}

/** One step of a message's history (a row of `message_events`, or an incoming SMS's arrival). */
export interface MessageStep {
  status: number;
  at: Date;
  error: string | null;
}

/**
 * The event of one step, with the message as of that step: its status and error, the time of each earlier
 * step from the row, its own time from the step, and later steps null (a `message.sent` built after the
 * delivery report shows no delivery). Undefined for steps that are not news (New, Queued).
 */
export function messageStepEvent(
  row: WebhookMessageRow,
  step: MessageStep,
  accountId: number,
  id: string = randomUUID(),
): WebhookEvent<MessageEventType> | undefined {
  const { status, at } = step;
  if (status === MessageStatus.Income) return messageEvent({ ...row, status }, accountId, at, id);
  const failed = isFailureStatus(status);
  const asOf: WebhookMessageRow = {
    ...row,
    status,
    status_error: step.error,
    taken_at: status === MessageStatus.TakenFromServer ? at : row.taken_at,
    sent_at:
      status === MessageStatus.SentByPhone
        ? at
        : status === MessageStatus.Delivered || failed
          ? row.sent_at
          : null,
    delivered_at: status === MessageStatus.Delivered ? at : null,
    failed_at: failed ? at : null,
  };
  return messageEvent(asOf, accountId, at, id);
}

export function deviceEvent(
  online: boolean,
  device: { id: number; title: string; lastSeen: Date },
  accountId: number,
  occurredAt: Date,
  id: string = randomUUID(),
): WebhookEvent<DeviceEventType> {
  return {
    id,
    type: online ? 'device.online' : 'device.offline',
    occurred_at: occurredAt.toISOString(),
    account_id: accountId,
    data: { device_id: device.id, title: device.title, online, lastseen: device.lastSeen.toISOString() },
  };
}

/** `webhook.test`: sent on demand to one subscription (POST /v1/webhooks/:id/test), never by a change. */
export const TEST_EVENT_TYPE = 'webhook.test';

export interface WebhookTestEvent {
  id: string;
  type: typeof TEST_EVENT_TYPE;
  occurred_at: string;
  account_id: number;
  data: { webhook_id: number; message: string };
}

/** Any body a delivery carries. */
export type AnyWebhookEvent = WebhookEvent | WebhookTestEvent;

export function testEvent(
  webhookId: number,
  accountId: number,
  occurredAt: Date = new Date(),
  id: string = randomUUID(),
): WebhookTestEvent {
  return {
    id,
    type: TEST_EVENT_TYPE,
    occurred_at: occurredAt.toISOString(),
    account_id: accountId,
    data: { webhook_id: webhookId, message: 'A test event from smsfleet: your endpoint is reachable.' },
  };
}

/** The message an event is about (its deliveries to one subscription go out in order), if any. */
export function eventMessageId(event: AnyWebhookEvent): number | null {
  return event.type.startsWith('message.') ? (event.data as WebhookMessageData).id : null;
}

/** The device an event is about, for the subscriptions' device filter; null matches every filter. */
export function eventDeviceId(event: AnyWebhookEvent): number | null {
  if (event.type.startsWith('message.')) return (event.data as WebhookMessageData).deviceid;
  if (event.type.startsWith('device.')) return (event.data as WebhookDeviceData).device_id;
  return null;
}
