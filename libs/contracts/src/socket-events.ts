import { SimSlot } from './sim-slot';

/** The phone protocol (docs/device-protocol.md): namespace, version and event names. */
export const DEVICE_NAMESPACE = '/devices';
export const DEVICE_PROTOCOL_VERSION = 1;

export const DeviceEvent = {
  hello: 'hello',
  sms: 'sms',
  status: 'status',
  incoming: 'incoming',
  settings: 'settings',
} as const;

export interface DeviceHandshakeAuth {
  deviceId: number;
  secret: string;
  protocol?: number;
}

export interface SimInfo {
  Slot: number;
  IccId?: string;
  Number?: string;
  Roaming?: boolean;
  CountryIso?: string;
  CarrierName?: string;
}

export interface DeviceSettings {
  delaybetweeneachsms: number;
  window: number;
}

export interface HelloPayload {
  appversion?: string;
  siminfo?: SimInfo[];
  battery?: number;
}
export interface HelloAck {
  ok: true;
  settings: DeviceSettings;
}

export interface SmsPayload {
  id: number;
  sendto: string;
  body: string;
  sim: SimSlot;
  urgent: boolean;
  /** ISO-8601 */
  validUntil: string;
}
export type SmsAck = { accepted: true } | { accepted: false; reason: string };

export interface StatusPayload {
  id: number;
  status: number;
  at: string;
  error?: string;
}
export type StatusAck = { ok: true } | { ok: false; error: string };

export interface IncomingPayload {
  from: string;
  body: string;
  sim: SimSlot;
  receivedAt: string;
}
export type IncomingAck = { ok: true; id: number } | { ok: false; error: string };

export const DeviceConnectError = {
  unauthorized: 'unauthorized',
  unsupportedProtocol: 'unsupported protocol',
  /** The server could not check the phone now (its database is away or slow): retry after a pause. */
  unavailable: 'unavailable',
} as const;
