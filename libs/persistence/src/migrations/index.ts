import { Init1764000000000 } from './1764000000000-init';
import { ContactsAndNewsletters1764100000000 } from './1764100000000-contacts-and-newsletters';
import { IncomingOnce1764100100000 } from './1764100100000-incoming-once';
import { MessagesBySim1764100200000 } from './1764100200000-messages-by-sim';
import { NoReportStatus1764200000000 } from './1764200000000-no-report-status';
import { PendingMessagesIndex1764300000000 } from './1764300000000-pending-messages-index';
import { IdempotencyKeys1764600000000 } from './1764600000000-idempotency-keys';
import { NoAckStatus1764620000000 } from './1764620000000-no-ack-status';
import { SealedApiTokens1765000000000 } from './1765000000000-sealed-api-tokens';
import { DeviceRemoval1765000100000 } from './1765000100000-device-removal';
import { Uploads1765000200000 } from './1765000200000-uploads';
import { DeviceOfTheSameAccount1765000300000 } from './1765000300000-device-of-the-same-account';
import { SmsgateDevices1765200000000 } from './1765200000000-smsgate-devices';
import { SealedPhoneRegistrationTokens1765200100000 } from './1765200100000-sealed-phone-registration-tokens';
import { StatusInbox1765300000000 } from './1765300000000-status-inbox';
import { DeadLetters1765300100000 } from './1765300100000-dead-letters';
import { DashboardSessions1765320000000 } from './1765320000000-dashboard-sessions';
import { MessagesByHourAndStatus1765320100000 } from './1765320100000-messages-by-hour-and-status';
import { Webhooks1765400000000 } from './1765400000000-webhooks';
import { WebhookPresence1765400100000 } from './1765400100000-webhook-presence';
import { WebhookEventsByAge1765500000000 } from './1765500000000-webhook-events-by-age';
import { CancelledStatus1765510000000 } from './1765510000000-cancelled-status';
import { RandomPace1765520000000 } from './1765520000000-random-pace';
import { SendHours1765520100000 } from './1765520100000-send-hours';
import { SimQuotas1765520200000 } from './1765520200000-sim-quotas';
import { WaitingMessagesByDueTime1765530000000 } from './1765530000000-waiting-messages-by-due-time';
import { MessageHourCounts1765540000000 } from './1765540000000-message-hour-counts';
import { Pools1765560000000 } from './1765560000000-pools';
import { MessagesOfPools1765570000000 } from './1765570000000-messages-of-pools';
import { WebhookLeaseTokens1765590000000 } from './1765590000000-webhook-lease-tokens';
import { WebhookBatches1765590100000 } from './1765590100000-webhook-batches';
import { WebhookDeliveriesFillfactor1765595000000 } from './1765595000000-webhook-deliveries-fillfactor';

/** Every migration, in order. */
export const MIGRATIONS = [
  Init1764000000000,
  ContactsAndNewsletters1764100000000,
  IncomingOnce1764100100000,
  MessagesBySim1764100200000,
  NoReportStatus1764200000000,
  PendingMessagesIndex1764300000000,
  IdempotencyKeys1764600000000,
  NoAckStatus1764620000000,
  SealedApiTokens1765000000000,
  DeviceRemoval1765000100000,
  Uploads1765000200000,
  DeviceOfTheSameAccount1765000300000,
  SmsgateDevices1765200000000,
  SealedPhoneRegistrationTokens1765200100000,
  StatusInbox1765300000000,
  DeadLetters1765300100000,
  DashboardSessions1765320000000,
  MessagesByHourAndStatus1765320100000,
  Webhooks1765400000000,
  WebhookPresence1765400100000,
  WebhookEventsByAge1765500000000,
  CancelledStatus1765510000000,
  RandomPace1765520000000,
  SendHours1765520100000,
  SimQuotas1765520200000,
  WaitingMessagesByDueTime1765530000000,
  MessageHourCounts1765540000000,
  Pools1765560000000,
  MessagesOfPools1765570000000,
  WebhookLeaseTokens1765590000000,
  WebhookBatches1765590100000,
  WebhookDeliveriesFillfactor1765595000000,
];
