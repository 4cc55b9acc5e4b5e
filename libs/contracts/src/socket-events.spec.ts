import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, Socket as ServerSocket } from 'socket.io';
import { io, Socket as ClientSocket } from 'socket.io-client';
import {
  DEVICE_NAMESPACE,
  DeviceEvent,
  PhoneEventsAsReceived,
  PhoneToServerEvents,
  ServerToPhoneEvents,
  SmsAck,
  StatusAck,
} from './socket-events';

type PhoneSocket = ClientSocket<ServerToPhoneEvents, PhoneToServerEvents>;
type DispatcherSocket = ServerSocket<PhoneEventsAsReceived, ServerToPhoneEvents>;

const SMS = { id: 1, sendto: '+4915700000000', body: 'x', sim: 0, urgent: false, validUntil: '' } as const;

/**
 * Checked by `tsc --noEmit` (npm run lint), never run: each event name is bound to its payload and ack, so
 * a wrong one does not compile. Each `@ts-expect-error` fails the type check if the line compiles.
 */
export function wrongPayloadsDoNotCompile(phone: PhoneSocket, dispatcher: DispatcherSocket): void {
  dispatcher.emit(DeviceEvent.sms, SMS, (ack) => void (ack.accepted satisfies boolean));
  // @ts-expect-error an `sms` needs its text
  dispatcher.emit(DeviceEvent.sms, { ...SMS, body: undefined }, () => undefined);
  // @ts-expect-error an `sms` is sent with an ack callback
  dispatcher.emit(DeviceEvent.sms, SMS);
  // @ts-expect-error `settings` carries the device settings, not an sms
  dispatcher.emit(DeviceEvent.settings, SMS);
  // @ts-expect-error a `goodbye` names its reason
  dispatcher.emit(DeviceEvent.goodbye, { retryAfterMs: 1 });
  // @ts-expect-error no such event
  dispatcher.emit('smss', SMS);
  // @ts-expect-error the phone does not send `sms`
  phone.emit(DeviceEvent.sms, SMS, () => undefined);
  // @ts-expect-error a status report's `at` is an ISO-8601 string
  phone.emit(DeviceEvent.status, { id: 1, status: 6, at: 0 }, () => undefined);
  // @ts-expect-error an `incoming` comes from a number
  phone.emit(DeviceEvent.incoming, { body: 'x', sim: 0, receivedAt: '' }, () => undefined);
  phone.on(DeviceEvent.sms, (_payload, ack) =>
    // @ts-expect-error the phone acks an `sms` with `accepted`, not `ok`
    ack({ ok: true }),
  );
  dispatcher.on(DeviceEvent.status, (_payload, ack) =>
    // @ts-expect-error the server acks a `status` with `ok`
    ack?.({ accepted: true }),
  );
  dispatcher.on(DeviceEvent.incoming, (payload) => {
    // @ts-expect-error what a phone sent is unchecked until parsed
    void payload.body;
  });
}

describe('socket events bound to their payloads', () => {
  let server: Server<PhoneEventsAsReceived, ServerToPhoneEvents>;
  let phone: PhoneSocket;

  afterEach(async () => {
    phone?.close();
    await server?.close();
  });

  it('carries an sms and a status report, each with the ack its event names', async () => {
    const http = createServer();
    server = new Server<PhoneEventsAsReceived, ServerToPhoneEvents>(http, { transports: ['websocket'] });
    const reports: unknown[] = [];
    const smsAck = new Promise<SmsAck>((resolve) =>
      server.of(DEVICE_NAMESPACE).on('connection', (socket) => {
        socket.on(DeviceEvent.status, (payload, ack) => {
          reports.push(payload);
          ack?.({ ok: true });
        });
        socket.timeout(5_000).emit(DeviceEvent.sms, SMS, (error, ack) => resolve(ack));
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    phone = io(`http://127.0.0.1:${port}${DEVICE_NAMESPACE}`, { transports: ['websocket'] });
    phone.on(DeviceEvent.sms, (payload, ack) =>
      ack(payload.id === SMS.id ? { accepted: true } : { accepted: false, reason: 'unknown id' }),
    );

    expect(await smsAck).toEqual({ accepted: true });
    const report = { id: 1, status: 6, at: new Date(0).toISOString() };
    const statusAck: StatusAck = await phone.timeout(5_000).emitWithAck(DeviceEvent.status, report);
    expect(statusAck).toEqual({ ok: true });
    expect(reports).toEqual([report]);
  });
});
