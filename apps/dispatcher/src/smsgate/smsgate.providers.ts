import { EventStreams } from './event-streams.service';
import { IncomingWebhook } from './incoming-webhook.service';
import { MobileApi } from './mobile-api.service';
import { MobileController } from './mobile.controller';
import { MobileLimits } from './mobile-limits';
import { PullSessions } from './pull-sessions.service';
import { SmsGateDevices } from './smsgate-devices.service';

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
