import { io, Socket } from 'socket.io-client';
import {
  DEVICE_NAMESPACE,
  DeviceConnectError,
  DEVICE_PROTOCOL_VERSION,
  DeviceEvent,
  DeviceSettings,
  GoodbyePayload,
  MessageStatus,
  PhoneToServerEvents,
  ServerToPhoneEvents,
  SmsAck,
  SmsPayload,
  StatusAck,
  StatusPayload,
} from '@smsfleet/contracts';
import { PhoneLedger } from './phone-ledger';

export interface PhoneBehaviour {
  /** How long "sending" takes before the phone reports 6 (ms). */
  sendDelayMs: number;
  /** How long until the delivery report (7 or 8) after sending (ms). */
  deliveryDelayMs: number;
  /** Share (0–1) of messages that fail with 9 instead of being sent. */
  failureShare: number;
  /** How long the phone holds an `sms` before acknowledging it (ms); 0 or absent: at once. */
  ackDelayMs?: number;
  /**
   * Reconnect this long (plus up to 2 s) after the server ended the session, as an always-online phone
   * app does; absent: stay offline (the protocol's "do not fight back" a newer session of the phone).
   */
  reconnectAfterServerDisconnectMs?: number;
  /**
   * Share (0–1) of acks after which the phone loses its network for 1–4 s (F8 in docs/reliability.md, "ack
   * then vanish"); it keeps "sending" and retries its reports once back, as a phone in a tunnel does.
   */
  vanishAfterAckShare?: number;
  /** false: only ack `sms` events, never report (benchmarks of the dispatch path alone). */
  reports?: boolean;
  /**
   * Poison messages (F11, docs/reliability.md), by payload: `fail` reports a failure every time, `reject`
   * refuses it in the ack, `ignore` never acks nor sends it (a phone app that crashes on it).
   */
  poison?: (payload: SmsPayload) => 'fail' | 'reject' | 'ignore' | undefined;
}

export interface PhoneCredentials {
  deviceId: number;
  secret: string;
}

const REPORT_RETRY_MS = 1_000;
const REPORT_RETRY_MAX_MS = 30_000;
/** A pause of 1–3 s, spread so that a fleet refused together does not come back together. */
const retryDelay = () => 1_000 + Math.random() * 2_000;
const REPORT_ACK_TIMEOUT_MS = 5_000;

/**
 * A fake Android phone speaking the real protocol: authenticates in the handshake, says hello, accepts
 * `sms` events (de-duplicating by id, as real phones must), "sends" them and reports 6 then 7 — retrying
 * each report until the server acknowledges it.
 */
/** The phone's end of the socket: events bound to their payloads in libs/contracts. */
type PhoneSocket = Socket<ServerToPhoneEvents, PhoneToServerEvents>;

export class SimulatedPhone {
  private socket?: PhoneSocket;
  private readonly accepted = new Set<number>();
  /**
   * The latest report of each message this phone has sent to radio or failed, acknowledged or not: a
   * message that comes again has it sent again (protocol v1, docs/device-protocol.md).
   */
  private readonly latestReport = new Map<number, StatusPayload>();
  /** Reports waiting for their acknowledgement (retried): a repeat need not send them again. */
  private readonly unacked = new Set<StatusPayload>();
  /** false: a phone written to the protocol before the re-send rule (it ignores repeats). */
  resendOnRepeat = true;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** How often this phone lost its network right after an ack (`vanishAfterAckShare`). */
  vanishes = 0;
  /** How often the server ended this phone's connection. */
  serverDisconnects = 0;
  /** How often the server sent this phone away (`goodbye`), and refused its handshake as rate-limited. */
  goodbyes = 0;
  handshakesLimited = 0;
  /** No handshake before this time (epoch ms): what the last `goodbye` or refusal asked for. */
  private notBefore = 0;
  /** Every `settings` event the server pushed, in order. */
  readonly settingsReceived: DeviceSettings[] = [];

  constructor(
    readonly credentials: PhoneCredentials,
    private dispatcherUrl: string,
    /** Mutable: a test gives a few phones of a fleet their own misbehaviour (F8). */
    public behaviour: PhoneBehaviour,
    private readonly ledger: PhoneLedger,
  ) {}

  get deviceId(): number {
    return this.credentials.deviceId;
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Resolves once connected (and hello acknowledged); rejects with the server's reason if refused. */
  connect(): Promise<void> {
    this.stopped = false;
    const socket: PhoneSocket = io(`${this.dispatcherUrl}${DEVICE_NAMESPACE}`, {
      transports: ['websocket'],
      auth: {
        deviceId: this.credentials.deviceId,
        secret: this.credentials.secret,
        protocol: DEVICE_PROTOCOL_VERSION,
      },
      reconnectionDelay: 200,
      reconnectionDelayMax: 2_000,
    });
    this.socket = socket;
    socket.on(DeviceEvent.sms, (payload: SmsPayload, ack: (answer: SmsAck) => void) =>
      this.onSms(payload, ack),
    );
    // The server could not check us now, or we are over our limits: socket.io does not retry a refused
    // handshake by itself. A rate-limited phone waits what the server asked (docs/device-protocol.md §2).
    socket.on('connect_error', (error: Error & { data?: { retryAfterMs?: unknown } }) => {
      if (error.message === DeviceConnectError.unavailable) this.later(retryDelay(), () => socket.connect());
      if (error.message === DeviceConnectError.rateLimited) {
        this.handshakesLimited++;
        this.waitAtLeast(error.data?.retryAfterMs);
        this.later(this.untilAllowed() + retryDelay(), () => socket.connect());
      }
    });
    // Sent away for sending too much: no handshake before `retryAfterMs` (the disconnect follows).
    socket.on(DeviceEvent.goodbye, (goodbye: GoodbyePayload) => {
      this.goodbyes++;
      this.waitAtLeast(goodbye?.retryAfterMs);
    });
    socket.on('disconnect', (reason: string) => {
      if (reason !== 'io server disconnect') return;
      this.serverDisconnects++;
      const after = this.behaviour.reconnectAfterServerDisconnectMs;
      if (after !== undefined)
        this.later(Math.max(after, this.untilAllowed()) + retryDelay(), () => socket.connect());
    });
    socket.on(DeviceEvent.settings, (settings: DeviceSettings) => this.settingsReceived.push(settings));
    socket.on('connect', () => {
      socket.emit(DeviceEvent.hello, {
        appversion: 'simulator-1',
        siminfo: [{ Slot: 0, CarrierName: 'Sim' }],
      });
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error: Error) => {
        if (error.message === DeviceConnectError.unavailable) return;
        if (error.message === DeviceConnectError.rateLimited) return;
        if (!socket.connected && !socket.active) reject(error);
        else if (error.message === 'unauthorized' || error.message === 'unsupported protocol') {
          socket.disconnect();
          reject(error);
        }
      });
    });
  }

  /**
   * Moves to another dispatcher node (as a phone behind a load balancer would after a reconnect), keeping
   * what it has accepted and the reports it still owes.
   */
  async moveTo(dispatcherUrl: string): Promise<void> {
    const old = this.socket;
    old?.removeAllListeners();
    old?.disconnect();
    this.dispatcherUrl = dispatcherUrl;
    await this.connect();
  }

  /** Drops the connection (as a phone losing its network would); `connect()` again to come back. */
  disconnect(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.socket?.disconnect();
    this.socket?.removeAllListeners();
  }

  /**
   * Loses the network for a while (F8, docs/reliability.md): the socket closes but the phone keeps what it
   * has accepted, keeps "sending" and retries its reports; `restoreConnection()` reconnects the same session.
   */
  dropConnection(): void {
    this.socket?.disconnect();
  }

  restoreConnection(): void {
    if (this.stopped) return;
    const wait = this.untilAllowed();
    if (wait > 0) this.later(wait, () => this.socket?.connect());
    else this.socket?.connect();
  }

  private waitAtLeast(retryAfterMs: unknown): void {
    const ms = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? retryAfterMs : 1_000;
    this.notBefore = Math.max(this.notBefore, Date.now() + Math.min(ms, 3_600_000));
  }

  private untilAllowed(): number {
    return Math.max(0, this.notBefore - Date.now());
  }

  private onSms(payload: SmsPayload, ack: (answer: SmsAck) => void): void {
    const repeat = this.accepted.has(payload.id);
    this.ledger.received.push({
      id: payload.id,
      deviceId: this.deviceId,
      at: Date.now(),
      repeat,
      urgent: payload.urgent,
    });
    const poison = this.behaviour.poison?.(payload);
    if (poison === 'ignore') return;
    if (poison === 'reject') {
      ack({ accepted: false, reason: 'simulated poison' });
      return;
    }
    const ackDelay = this.behaviour.ackDelayMs ?? 0;
    if (ackDelay > 0) this.later(ackDelay, () => ack({ accepted: true }));
    else ack({ accepted: true });
    if (Math.random() < (this.behaviour.vanishAfterAckShare ?? 0)) {
      this.vanishes++;
      this.dropConnection();
      this.later(1_000 + Math.random() * 3_000, () => this.restoreConnection());
    }
    // De-duplication by id: a repeat is acknowledged, never sent again; its latest report goes again (the
    // server may have lost it with Redis: protocol v1), unless it is still being retried anyway.
    if (repeat) {
      const latest = this.latestReport.get(payload.id);
      if (this.resendOnRepeat && latest && !this.unacked.has(latest)) this.report({ ...latest });
      return;
    }
    this.accepted.add(payload.id);
    if (this.behaviour.reports === false) return;
    this.later(this.behaviour.sendDelayMs, () => {
      if (poison === 'fail' || Math.random() < this.behaviour.failureShare) {
        this.report({
          id: payload.id,
          status: MessageStatus.GenericFailure,
          at: new Date().toISOString(),
          error: poison === 'fail' ? 'simulated poison' : 'simulated failure',
        });
        return;
      }
      this.ledger.sends.set(payload.id, (this.ledger.sends.get(payload.id) ?? 0) + 1);
      this.report({ id: payload.id, status: MessageStatus.SentByPhone, at: new Date().toISOString() });
      this.later(this.behaviour.deliveryDelayMs, () =>
        this.report({ id: payload.id, status: MessageStatus.Delivered, at: new Date().toISOString() }),
      );
    });
  }

  /** Reports are retried until acknowledged (docs/device-protocol.md, `status`). */
  private report(status: StatusPayload, attempt = 0): void {
    if (attempt === 0) {
      this.latestReport.set(status.id, status);
      this.unacked.add(status);
    }
    if (this.stopped || !this.socket) return;
    const socket = this.socket;
    // Back off while the server does not answer: a fleet retrying every second piles reports onto a
    // server that is slow already.
    const retry = (atLeastMs = 0) =>
      this.later(Math.max(atLeastMs, Math.min(REPORT_RETRY_MS * 2 ** attempt, REPORT_RETRY_MAX_MS)), () =>
        this.report(status, attempt + 1),
      );
    if (!socket.connected) {
      this.later(REPORT_RETRY_MS, () => this.report(status, attempt));
      return;
    }
    socket
      .timeout(REPORT_ACK_TIMEOUT_MS)
      .emitWithAck(DeviceEvent.status, status)
      .then((answer: StatusAck) => {
        if (answer?.ok) {
          this.unacked.delete(status);
          this.ledger.reported++;
          this.ledger.acked(status.id, status.status);
        }
        // Over our limits: nothing was done; again no sooner than the server asked.
        else retry(answer?.retryAfterMs);
      })
      .catch(() => retry());
  }

  private later(ms: number, action: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }
}
