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
  /** server → phone, just before the server disconnects it for a reason the phone must act on. */
  goodbye: 'goodbye',
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
  /** Seconds between two messages; with `delaybetweeneachsms_max`, the lower end of a random gap. */
  delaybetweeneachsms: number;
  window: number;
  /**
   * Present only for a random pace: each gap is drawn anew between `delaybetweeneachsms` and this many
   * seconds (carriers spot fixed intervals). Absent: every gap is `delaybetweeneachsms`.
   */
  delaybetweeneachsms_max?: number;
}

/**
 * The bounds of the gap before the next message, in milliseconds ([0, 0]: no pace). A range wider than
 * its lower end draws a new gap per message (`drawPaceMs`).
 */
export function paceRangeMs(settings: DeviceSettings): [number, number] {
  const min = Math.max(0, settings.delaybetweeneachsms) * 1_000;
  const max = Math.max(min, (settings.delaybetweeneachsms_max ?? 0) * 1_000);
  return [min, max];
}

/** One gap of the device's pace (ms): uniform over its range; `random` in [0, 1) (tests pass their own). */
export function drawPaceMs(settings: DeviceSettings, random: () => number = Math.random): number {
  const [min, max] = paceRangeMs(settings);
  return max > min ? min + Math.floor(random() * (max - min + 1)) : min;
}

export interface HelloPayload {
  appversion?: string;
  siminfo?: SimInfo[];
  battery?: number;
}
/** `ok:false` with another error: the server could not record the hello now (send it again later). */
export type HelloAck = { ok: true; settings: DeviceSettings } | RateLimitedAck | { ok: false; error: string };

/**
 * The ack of any phone event the server dropped because the phone is over its limits (docs/device-protocol.md
 * §3a): nothing was done; send it again after `retryAfterMs`.
 */
export interface RateLimitedAck {
  ok: false;
  error: 'rate_limited';
  retryAfterMs: number;
}

/** Why the server ends a phone's connection; a phone treats an unknown reason as `rate_limited`. */
export type GoodbyeReason = 'rate_limited';

/** The `goodbye` event: the phone reconnects no sooner than `retryAfterMs` from now. */
export interface GoodbyePayload {
  reason: GoodbyeReason;
  retryAfterMs: number;
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
export type StatusAck = { ok: true } | { ok: false; error: string; retryAfterMs?: number };

export interface IncomingPayload {
  from: string;
  body: string;
  sim: SimSlot;
  receivedAt: string;
}
export type IncomingAck = { ok: true; id: number } | { ok: false; error: string; retryAfterMs?: number };

export const DeviceConnectError = {
  unauthorized: 'unauthorized',
  unsupportedProtocol: 'unsupported protocol',
  /** The server could not check the phone now (its database is away or slow): retry after a pause. */
  unavailable: 'unavailable',
  /**
   * Too many handshakes from the phone's address or for its id, or the phone was sent away (`goodbye`):
   * the error's `data.retryAfterMs` says when to try again.
   */
  rateLimited: 'rate_limited',
} as const;

/**
 * Phone → server: each event bound to its payload and to the ack the server answers, as a phone following
 * the protocol sends them (socket.io's `ClientToServerEvents` for a phone's socket). The `hello` ack is
 * optional: a phone may ignore the settings it carries.
 */
export interface PhoneToServerEvents {
  [DeviceEvent.hello]: (payload: HelloPayload, ack?: (answer: HelloAck) => void) => void;
  [DeviceEvent.status]: (payload: StatusPayload | StatusPayload[], ack: (answer: StatusAck) => void) => void;
  [DeviceEvent.incoming]: (payload: IncomingPayload, ack: (answer: IncomingAck) => void) => void;
}

/** Server → phone: each event bound to its payload and, for `sms`, the phone's ack. */
export interface ServerToPhoneEvents {
  [DeviceEvent.sms]: (payload: SmsPayload, ack: (answer: SmsAck) => void) => void;
  [DeviceEvent.settings]: (settings: DeviceSettings) => void;
  [DeviceEvent.goodbye]: (payload: GoodbyePayload) => void;
}

/** The ack the server answers to a phone event. */
export type PhoneEventAck<E extends keyof PhoneToServerEvents> = Parameters<
  NonNullable<Parameters<PhoneToServerEvents[E]>[1]>
>[0];

/**
 * The phone events as the server hears them: a payload is whatever arrived (`unknown`) until the server
 * has checked it, an ack may be missing, and what the server answers is still bound to the event.
 */
export type PhoneEventsAsReceived = {
  [E in keyof PhoneToServerEvents]: (payload: unknown, ack?: (answer: PhoneEventAck<E>) => void) => void;
};
