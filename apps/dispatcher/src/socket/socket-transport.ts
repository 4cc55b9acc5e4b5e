import { DeviceEvent, DeviceRules, phoneSettings, SmsAck, SmsPayload } from '@smsfleet/contracts';
import { DeliveryAnswer, SessionTransport } from '../session/session-transport';
import type { DeviceSocket } from './device-socket';

/** A phone speaking our socket.io protocol (docs/device-protocol.md): each message an `sms` event with an ack. */
export class SocketTransport implements SessionTransport {
  readonly ready = true;

  constructor(readonly socket: DeviceSocket) {}

  get connectionId(): string {
    return this.socket.id;
  }

  deliver(payload: SmsPayload, ackTimeoutMs: number, answer: (result: DeliveryAnswer) => void): void {
    this.socket
      .timeout(ackTimeoutMs)
      .emit(DeviceEvent.sms, payload, (error: Error | null, ack: SmsAck | undefined) =>
        answer(error ? { timedOut: true } : readAck(ack)),
      );
  }

  settingsChanged(settings: DeviceRules): void {
    this.socket.emit(DeviceEvent.settings, phoneSettings(settings));
  }

  /** Never called: a socket is always ready. */
  nudge(): void {}

  disconnect(): void {
    this.socket.disconnect(true);
  }
}

/** `{accepted:true}`, or a refusal with the phone's reason; anything else is a malformed ack (refused). */
function readAck(ack: unknown): DeliveryAnswer {
  if (ack !== null && typeof ack === 'object' && (ack as SmsAck).accepted === true) return { accepted: true };
  const reason = (ack as { reason?: unknown } | null | undefined)?.reason;
  return { accepted: false, reason: typeof reason === 'string' ? reason : 'malformed ack' };
}
