import { SmsPayload } from '@smsfleet/contracts';

/**
 * The SMSGate Android app's "mobile v1" wire types (its `GatewayApi.kt`; docs/phones.md), as it sends
 * and parses them with Gson: field names, enum strings and ISO-8601 dates exactly.
 */

/** The app's `ProcessingState`. */
export const APP_STATES = [
  'Pending',
  'Cancelling',
  'Cancelled',
  'Processed',
  'Sent',
  'Delivered',
  'Failed',
] as const;
export type AppState = (typeof APP_STATES)[number];

/** `priority` at or above which the app sends a message before others and without its delays. */
export const APP_PRIORITY_EXPEDITED = 100;

/** One element of `GET /message`'s answer (`GatewayApi.Message`). */
export interface AppMessage {
  id: string;
  message: string;
  textMessage: { text: string };
  phoneNumbers: string[];
  /** 1-based: the app sends from slot `simNumber - 1`. */
  simNumber: number;
  withDeliveryReport: boolean;
  isEncrypted: boolean;
  validUntil: string;
  priority: number;
  state: 'Pending';
}

export function toAppMessage(payload: SmsPayload): AppMessage {
  return {
    id: String(payload.id),
    // The legacy field as well: versions before textMessage read only this one.
    message: payload.body,
    textMessage: { text: payload.body },
    phoneNumbers: [payload.sendto],
    simNumber: payload.sim + 1,
    withDeliveryReport: true,
    isEncrypted: false,
    validUntil: payload.validUntil,
    priority: payload.urgent ? APP_PRIORITY_EXPEDITED : 0,
    state: 'Pending',
  };
}

/** One element of `PATCH /message` (`GatewayApi.MessagePatchRequest`), checked. */
export interface AppStateReport {
  id: string;
  state: AppState;
  recipients: Array<{ phoneNumber: string; state: AppState; error: string | null }>;
  /** When the message entered each state, by the phone's clock. */
  states: Partial<Record<AppState, Date>>;
}

/** `POST /device` and `PATCH /device` (`DeviceRegisterRequest`, `DevicePatchRequest`), checked. */
export interface AppSimCard {
  slotIndex: number;
  simNumber: number;
  phoneNumber: string | null;
  carrierName: string | null;
  iccid: string | null;
}

export interface AppDeviceRegistration {
  name: string;
  pushToken: string | null;
  simCards: AppSimCard[];
}

export interface AppDevicePatch {
  id: string;
  pushToken: string | null;
  simCards: AppSimCard[] | null;
}

/** The body of a webhook the app posts (`WebHookEventDTO`) for `sms:received` (`SmsEventPayload.SmsReceived`). */
export interface AppSmsReceived {
  deviceId: string;
  sender: string;
  message: string;
  simNumber: number | null;
  receivedAt: Date;
}

export const SMS_RECEIVED_EVENT = 'sms:received';
