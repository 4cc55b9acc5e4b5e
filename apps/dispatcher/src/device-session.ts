import { Job, Worker } from 'bullmq';
import type { Socket } from 'socket.io';
import {
  DeviceEvent,
  DeviceSettings,
  MessageStatus,
  SendSmsJob,
  SmsAck,
  SmsPayload,
  StatusReport,
} from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';

/** What a session needs from its node. */
export interface SessionContext {
  ackTimeoutMs: number;
  idlePollMs: number;
  report(deviceId: number, reports: StatusReport[]): Promise<void>;
  metrics: Metrics;
  log: { warn(object: object, message: string): void; debug(object: object, message: string): void };
}

interface InFlight {
  job: Job<SendSmsJob>;
  settled: boolean;
}

/**
 * One connected phone: owns its device queue while connected and feeds it `sms` events, never more than
 * `window` unacknowledged and never two closer than `delaybetweeneachsms`. An acked message is reported
 * "taken" (2) before its job completes; an unacked one goes back to the front of its queue (at least once).
 */
export class DeviceSession {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly token: string;
  private pumping = false;
  private wakeRequested = false;
  private closed = false;
  private nextSendAt = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly deviceId: number,
    readonly socket: Socket,
    private readonly worker: Worker<SendSmsJob>,
    private settings: DeviceSettings,
    private readonly context: SessionContext,
    nodeId: string,
  ) {
    this.token = `${nodeId}:${socket.id}`;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    // Jobs left active by a dead dispatcher go back to wait once their lock expires.
    void this.worker
      .startStalledCheckTimer()
      .catch((error: Error) => this.warn(error, 'stalled check failed'));
    this.wake();
  }

  updateSettings(settings: DeviceSettings): void {
    this.settings = settings;
    this.wake();
  }

  /** New work may be waiting: fetch now rather than at the next idle poll. */
  wake(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.wakeRequested = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    let retryIn = this.context.idlePollMs;
    try {
      do {
        this.wakeRequested = false;
        while (!this.closed && this.inFlight.size < this.settings.window) {
          const wait = this.nextSendAt - Date.now();
          if (wait > 0) {
            retryIn = wait;
            break;
          }
          const job = await this.worker.getNextJob(this.token, { block: false });
          if (!job) break;
          if (this.closed) {
            await this.requeue(job);
            break;
          }
          this.nextSendAt = Date.now() + this.settings.delaybetweeneachsms * 1_000;
          this.dispatch(job);
        }
      } while (this.wakeRequested && !this.closed);
    } catch (error) {
      this.warn(error as Error, 'fetching from the device queue failed; retrying');
    } finally {
      this.pumping = false;
    }
    this.arm(retryIn);
  }

  /** One timer per session: the next idle poll, or the moment the pace allows the next message. */
  private arm(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(ms, 1));
  }

  private dispatch(job: Job<SendSmsJob>): void {
    const entry: InFlight = { job, settled: false };
    this.inFlight.set(job.id as string, entry);
    const data = job.data;
    if (data.validUntil < Date.now()) {
      void this.finish(entry, {
        messageId: data.messageId,
        status: MessageStatus.Expired,
        at: new Date().toISOString(),
        error: 'validity ended before the message reached a phone',
      });
      return;
    }
    const payload: SmsPayload = {
      id: data.messageId,
      sendto: data.sendto,
      body: data.body,
      sim: data.sim,
      urgent: data.urgent,
      validUntil: new Date(data.validUntil).toISOString(),
    };
    this.socket
      .timeout(this.context.ackTimeoutMs)
      .emit(
        DeviceEvent.sms,
        payload,
        (error: Error | null, ack: SmsAck | undefined) => void this.onAck(entry, error, ack),
      );
    this.context.metrics.messagesDispatched.inc();
    this.context.metrics.dispatchLatency.observe(Metrics.secondsSince(job.timestamp + (job.delay ?? 0)));
    this.context.log.debug({ deviceId: this.deviceId, messageId: data.messageId }, 'sms emitted');
  }

  private async onAck(entry: InFlight, error: Error | null, ack: SmsAck | undefined): Promise<void> {
    if (entry.settled) return;
    const messageId = entry.job.data.messageId;
    const at = new Date().toISOString();
    if (error) {
      entry.settled = true;
      this.inFlight.delete(entry.job.id as string);
      this.context.log.debug({ deviceId: this.deviceId, messageId }, 'no ack in time; back to the queue');
      this.context.metrics.resends.inc({ reason: 'ack_timeout' });
      await this.requeue(entry.job);
      this.wake();
      return;
    }
    if (ack !== null && typeof ack === 'object' && ack.accepted === true) {
      await this.finish(entry, { messageId, status: MessageStatus.TakenFromServer, at });
    } else {
      const reason =
        ack && typeof ack === 'object' && 'reason' in ack && typeof ack.reason === 'string'
          ? ack.reason
          : 'malformed ack';
      await this.finish(entry, {
        messageId,
        status: MessageStatus.RejectedByPhone,
        at,
        error: reason.slice(0, 500),
      });
    }
  }

  /** Records the outcome, then completes the job: a crash in between means a resend, never a loss. */
  private async finish(entry: InFlight, report: StatusReport): Promise<void> {
    entry.settled = true;
    try {
      await this.context.report(this.deviceId, [report]);
      await entry.job.moveToCompleted(undefined, this.token, false);
    } catch (error) {
      // The job keeps its lock until it expires; the stalled check then puts it back (resent, de-duplicated).
      this.warn(error as Error, 'could not record an ack; the message will be resent');
    } finally {
      this.inFlight.delete(entry.job.id as string);
      this.wake();
    }
  }

  private async requeue(job: Job<SendSmsJob>): Promise<void> {
    try {
      await job.moveToWait(this.token);
    } catch (error) {
      this.warn(error as Error, 'could not hand a message back; it returns when its lock expires');
    }
  }

  /** The phone is gone: hand back everything unacknowledged, at once, and stop fetching. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const pending = [...this.inFlight.values()].filter((entry) => !entry.settled);
    for (const entry of pending) entry.settled = true;
    this.inFlight.clear();
    if (pending.length > 0) this.context.metrics.resends.inc({ reason: 'disconnect' }, pending.length);
    await Promise.all(pending.map((entry) => this.requeue(entry.job)));
    await this.worker.close().catch((error: Error) => this.warn(error, 'closing the device worker failed'));
  }

  private warn(error: Error, message: string): void {
    this.context.log.warn({ deviceId: this.deviceId, err: error }, message);
  }
}
