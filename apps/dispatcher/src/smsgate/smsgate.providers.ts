import { EventStreams } from './event-streams';
import { IncomingWebhook } from './incoming-webhook';
import { MobileApi } from './mobile-api';
import { MobileController } from './mobile.controller';
import { MobileLimits } from './mobile-limits';
import { PullSessions } from './pull-sessions';
import { SmsGateDevices } from './smsgate-devices';

/** The SMSGate app's transport; part of the dispatcher module, whose sessions and signals it shares. */
export const SMSGATE_PROVIDERS = [
  SmsGateDevices,
  EventStreams,
  PullSessions,
  IncomingWebhook,
  MobileApi,
  MobileLimits,
];

export const SMSGATE_CONTROLLERS = [MobileController];
