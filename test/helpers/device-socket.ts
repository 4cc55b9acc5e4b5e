import { io, Socket } from 'socket.io-client';
import { DEVICE_NAMESPACE, DEVICE_PROTOCOL_VERSION, DeviceEvent, SmsPayload } from '@smsfleet/contracts';

/** The handshake's `auth` as a phone (or an attacker) sends it: any values, any extra fields. */
export interface DeviceAuth {
  deviceId?: unknown;
  secret?: unknown;
  [field: string]: unknown;
}

/**
 * A bare protocol client: the test decides every event it sends. `sms` events are acknowledged as accepted
 * and handed to `onSms`. Rejects with the server's `connect_error` (e.g. "unauthorized").
 */
export function connectDevice(
  url: string,
  phone: DeviceAuth | { deviceId: number; secret: string },
  onSms: (payload: SmsPayload) => void = () => undefined,
): Promise<Socket> {
  const socket = io(`${url}${DEVICE_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { protocol: DEVICE_PROTOCOL_VERSION, ...phone },
  });
  socket.on(DeviceEvent.sms, (payload: SmsPayload, ack: (answer: unknown) => void) => {
    onSms(payload);
    ack({ accepted: true });
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.disconnect();
      reject(error);
    });
  });
}

/** "connected" (then disconnects at once), or the server's refusal message. */
export async function handshake(url: string, auth: DeviceAuth): Promise<string> {
  try {
    (await connectDevice(url, auth)).disconnect();
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  }
}
