import { randomBytes } from 'node:crypto';
import { DeviceRules, SmsPayload } from '@smsfleet/contracts';
import { DeliveryAnswer, SessionTransport } from '../session/session-transport';

/** How the transport reaches a phone that pulls: its event stream here, or a signal every node hears. */
export interface PhoneWaker {
  /** Whether an event stream of the device is open on this node (it then pulls within moments). */
  hasLocalStream(deviceId: number): boolean;
  /** Writes `MessageEnqueued` to the device's streams on this node. */
  tellLocal(deviceId: number): void;
  /** Tells the device's streams on every node (a work signal). */
  tellEverywhere(deviceId: number): void;
}

interface HandedOut {
  payload: SmsPayload;
  answer: (result: DeliveryAnswer) => void;
  timer: NodeJS.Timeout;
}

/** An answer that came before its message was handed out here is kept this long. */
const EARLY_ANSWER_MS = 60_000;
const MAX_EARLY_ANSWERS = 10_000;

/**
 * The SMSGate app's transport: the phone pulls (`GET /message`) the messages handed to it and reports a
 * state for each (`PATCH /message`), which is its ack. A message stays in every pull's answer until the
 * phone reports it or the ack timeout passes; the app ignores ids it has and reports their state again,
 * so repeats are safe. Messages are fetched only while a pull waits for its answer or an event stream
 * here can make the phone pull at once: never for a pull that may be minutes away.
 */
export class PullTransport implements SessionTransport {
  readonly connectionId = `smsgate-${randomBytes(6).toString('hex')}`;
  private readonly handedOut = new Map<number, HandedOut>();
  /** Reports of messages not handed out here (yet): a session that fetches them finds them answered. */
  private readonly earlyAnswers = new Map<number, number>();
  private pullsWaiting = 0;
  private closed = false;
  /** A `MessageEnqueued` is due this turn: messages fetched together wake the phone once. */
  private telling = false;
  /** Last request of the phone served by this transport (epoch ms). */
  lastActivity = Date.now();

  constructor(
    readonly deviceId: number,
    private readonly waker: PhoneWaker,
  ) {}

  get ready(): boolean {
    return !this.closed && (this.pullsWaiting > 0 || this.waker.hasLocalStream(this.deviceId));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Messages handed out and not reported yet. */
  get outstanding(): number {
    return this.handedOut.size;
  }

  deliver(payload: SmsPayload, ackTimeoutMs: number, answer: (result: DeliveryAnswer) => void): void {
    if (this.takeEarlyAnswer(payload.id)) {
      answer({ accepted: true });
      return;
    }
    const timer = setTimeout(() => {
      if (this.handedOut.get(payload.id)?.timer !== timer) return;
      this.handedOut.delete(payload.id);
      answer({ timedOut: true });
    }, ackTimeoutMs);
    this.handedOut.set(payload.id, { payload, answer, timer });
    if (this.pullsWaiting === 0 && !this.telling) {
      this.telling = true;
      setImmediate(() => {
        this.telling = false;
        if (!this.closed) this.waker.tellLocal(this.deviceId);
      });
    }
  }

  /** Answers a pull: fetches what the phone may take now, then lists everything handed out and unreported. */
  async pull(refill: () => Promise<void>): Promise<SmsPayload[]> {
    this.lastActivity = Date.now();
    this.pullsWaiting++;
    try {
      await refill();
    } finally {
      this.pullsWaiting--;
    }
    return [...this.handedOut.values()].map((entry) => entry.payload);
  }

  /** The phone reported a state for these messages: each is acknowledged (taken by the phone). */
  reported(messageIds: number[]): void {
    this.lastActivity = Date.now();
    for (const id of messageIds) {
      const entry = this.handedOut.get(id);
      if (entry) {
        clearTimeout(entry.timer);
        this.handedOut.delete(id);
        entry.answer({ accepted: true });
      } else {
        if (this.earlyAnswers.size >= MAX_EARLY_ANSWERS)
          this.earlyAnswers.delete(this.earlyAnswers.keys().next().value as number);
        this.earlyAnswers.set(id, Date.now() + EARLY_ANSWER_MS);
      }
    }
  }

  private takeEarlyAnswer(id: number): boolean {
    const until = this.earlyAnswers.get(id);
    if (until === undefined) return false;
    this.earlyAnswers.delete(id);
    return until > Date.now();
  }

  /** Settings reach the app through its event stream (`SettingsUpdated`), wherever that is. */
  settingsChanged(_settings: DeviceRules): void {}

  nudge(): void {
    this.waker.tellEverywhere(this.deviceId);
  }

  /** The session ends: what was handed out goes back to the queue with it (the session does that). */
  disconnect(): void {
    this.closed = true;
    for (const entry of this.handedOut.values()) clearTimeout(entry.timer);
    this.handedOut.clear();
  }
}
