import type { Namespace, Socket } from 'socket.io';
import type { PhoneEventsAsReceived, ServerToPhoneEvents } from '@smsfleet/contracts';
import type { DeviceIdentity } from '../device-authenticator';
import type { SocketTransport } from './socket-transport';

/** What the dispatcher keeps on a phone's socket: set in the handshake, then when its session opens. */
export interface DeviceSocketData {
  identity: DeviceIdentity;
  transport?: SocketTransport;
}

/** No events pass between dispatcher nodes over socket.io (they use Redis channels). */
type NoInterServerEvents = Record<string, never>;

/** A phone's socket on the `/devices` namespace, its events bound to their payloads in libs/contracts. */
export type DeviceSocket = Socket<
  PhoneEventsAsReceived,
  ServerToPhoneEvents,
  NoInterServerEvents,
  DeviceSocketData
>;

export type DeviceNamespace = Namespace<
  PhoneEventsAsReceived,
  ServerToPhoneEvents,
  NoInterServerEvents,
  DeviceSocketData
>;
