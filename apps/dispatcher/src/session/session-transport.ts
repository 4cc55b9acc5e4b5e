import { DeviceRules, SmsPayload } from '@smsfleet/contracts';

/** What a phone answered to one delivered message, or that it did not answer within the ack timeout. */
export type DeliveryAnswer = { accepted: true } | { accepted: false; reason: string } | { timedOut: true };

/**
 * How a device session reaches its phone. The session owns every rule (window, pace, validity, ack
 * timeout, resends, urgent slots, reports); a transport only carries messages and answers.
 */
export interface SessionTransport {
  /** Names this connection in the device's lease and in the lock of the jobs it holds. */
  readonly connectionId: string;
  /**
   * Whether a message fetched now reaches the phone promptly. A socket always does; a phone that pulls
   * is only served during its pull or while this node can wake it at once, so that no job waits, locked,
   * for a pull that may be minutes away.
   */
  readonly ready: boolean;
  /**
   * Hands one message to the phone. `answer` is called exactly once: with the phone's answer, or with
   * `{ timedOut: true }` after `ackTimeoutMs`.
   */
  deliver(payload: SmsPayload, ackTimeoutMs: number, answer: (result: DeliveryAnswer) => void): void;
  /** The device's pace or window changed. */
  settingsChanged(settings: DeviceRules): void;
  /**
   * Work may be waiting that the transport cannot take now (not `ready`): a paced message or a scheduled
   * one became due. A pulling phone is told to pull; a socket is always ready and never asked.
   */
  nudge(): void;
  /** The server ends this connection (a newer one took over, or the node lets its phones go). */
  disconnect(): void;
}
