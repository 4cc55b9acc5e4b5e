/** Status codes of a message, as the SmsGateway24 API names them (docs/api.md). */
export enum MessageStatus {
  New = 1,
  TakenFromServer = 2,
  Queued = 3,
  Income = 5,
  SentByPhone = 6,
  Delivered = 7,
  NotDelivered = 8,
  GenericFailure = 9,
  NoService = 10,
  NullPdu = 11,
  RadioOff = 12,
  NotAllowed = 100,
  NotAllowedAtAll = 101,
  /** Ours: the phone refused the message (`accepted:false`), e.g. no such SIM slot. */
  RejectedByPhone = 201,
  /** Ours: it could not reach a phone, or got no report, within its validity. */
  Expired = 202,
  /** Ours: the phone took it but sent no final report in time (its error says whether "sent" came). */
  NoReport = 203,
  /** Ours: sent to the phone DISPATCH_MAX_UNACKED_SENDS times, never acknowledged (an app that crashes on it). */
  NoAck = 204,
  /** Ours: cancelled by the account (POST /v1/messages/cancel) before any phone took it. */
  Cancelled = 205,
}

export const MESSAGE_STATUS_TITLES: Readonly<Record<MessageStatus, string>> = {
  [MessageStatus.New]: 'New',
  [MessageStatus.TakenFromServer]: 'Taken from Server',
  [MessageStatus.Queued]: 'Queued',
  [MessageStatus.Income]: 'Income',
  [MessageStatus.SentByPhone]: 'Sent by Phone',
  [MessageStatus.Delivered]: 'Delivered',
  [MessageStatus.NotDelivered]: 'Sms Not Delivered',
  [MessageStatus.GenericFailure]: 'Not SENT - Generic failure',
  [MessageStatus.NoService]: 'Not sent - No service',
  [MessageStatus.NullPdu]: 'Not Sent - Null PDU',
  [MessageStatus.RadioOff]: 'Not Sent - Radio off',
  [MessageStatus.NotAllowed]: 'not sent - NOT ALLOWED',
  [MessageStatus.NotAllowedAtAll]: 'not sent - Not Allowed At all',
  [MessageStatus.RejectedByPhone]: 'Not sent - Rejected by phone',
  [MessageStatus.Expired]: 'Not sent - Expired',
  [MessageStatus.NoReport]: 'No report from phone',
  [MessageStatus.NoAck]: 'Not sent - No ack from phone',
  [MessageStatus.Cancelled]: 'Not sent - Cancelled by the account',
};

/** What a phone may report in a `status` event. */
export const PHONE_REPORTABLE_STATUSES: ReadonlySet<number> = new Set([6, 7, 8, 9, 10, 11, 12, 100, 101]);

/** Waiting for a phone: stored (the outbox), or in its device queue. */
export const WAITING_STATUSES = [MessageStatus.New, MessageStatus.Queued] as const;

/** Handed to a phone, which has not given its final word yet. */
export const AT_PHONE_STATUSES = [MessageStatus.TakenFromServer, MessageStatus.SentByPhone] as const;

/** An outgoing message on its way: waiting or at a phone. */
export const NON_FINAL_STATUSES = [
  MessageStatus.New,
  MessageStatus.TakenFromServer,
  MessageStatus.Queued,
  MessageStatus.SentByPhone,
] as const;

/** Final statuses that say the message was not delivered. */
export const FAILURE_STATUSES = [
  MessageStatus.NotDelivered,
  MessageStatus.GenericFailure,
  MessageStatus.NoService,
  MessageStatus.NullPdu,
  MessageStatus.RadioOff,
  MessageStatus.NotAllowed,
  MessageStatus.NotAllowedAtAll,
  MessageStatus.RejectedByPhone,
  MessageStatus.Expired,
  MessageStatus.NoReport,
  MessageStatus.NoAck,
  MessageStatus.Cancelled,
] as const;

const FINAL_FAILURES: ReadonlySet<number> = new Set(FAILURE_STATUSES);

/** The reasons of a 203: whether the phone had reported "sent" before it fell silent. */
export const NO_REPORT_TAKEN_ERROR = 'taken by the phone, no report in time';
export const NO_REPORT_SENT_ERROR = 'sent, no delivery report in time';

export function isMessageStatus(value: number): value is MessageStatus {
  return value in MESSAGE_STATUS_TITLES;
}

export function isFinalStatus(status: number): boolean {
  return status === MessageStatus.Delivered || status === MessageStatus.Income || FINAL_FAILURES.has(status);
}

export function isFailureStatus(status: number): boolean {
  return FINAL_FAILURES.has(status);
}

/**
 * How far along the lifecycle a status is. A message only ever moves to a higher rank, so
 * a late or repeated report can never move it backwards. Final statuses share the top rank:
 * the first final word wins (except that "not delivered" may follow "sent", which has a lower rank).
 * Mirrored in SQL by the `message_status_rank` function (migration Init).
 */
export function statusRank(status: number): number {
  switch (status) {
    case MessageStatus.New:
      return 0;
    case MessageStatus.Queued:
      return 1;
    case MessageStatus.TakenFromServer:
      return 2;
    case MessageStatus.SentByPhone:
      return 3;
    default:
      return isFinalStatus(status) ? 4 : 0;
  }
}

/** True when moving from `current` to `next` is a step forward. */
export function canTransition(current: number, next: number): boolean {
  return statusRank(next) > statusRank(current);
}

export function statusTitle(status: number): string {
  return isMessageStatus(status) ? MESSAGE_STATUS_TITLES[status] : 'Unknown';
}
