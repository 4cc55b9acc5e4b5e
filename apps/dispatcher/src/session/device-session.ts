import { DeviceJob, DeviceWorker } from '@smsfleet/queueing';
import {
  DeviceRules,
  DeviceSettings,
  drawPaceMs,
  isWithinSendHours,
  nextSendOpening,
  quotaOfSlot,
  quotaZoneOf,
  SendHours,
  SimQuota,
  SimSlot,
  MessageStatus,
  paceRangeMs,
  SendSmsJob,
  SmsPayload,
  StatusReport,
} from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { toStorableText } from '@smsfleet/validation';
import type { QuotaReservation } from '../limits/sim-quota-gate';
import { CallGate } from './call-gate';
import { DeliveryAnswer, SessionTransport } from './session-transport';

/** What a session needs from its node. */
export interface SessionContext {
  ackTimeoutMs: number;
  idlePollMs: number;
  /** Sends without an ack after which a message ends as 204 instead of being resent. */
  maxUnackedSends: number;
  report(deviceId: number, reports: StatusReport[]): Promise<void>;
  /** Puts back jobs a previous owner of the device's queue left active; before the first fetch. */
  reclaim(deviceId: number): Promise<number>;
  /** Makes the jobs this device's sessions held back (`SendSmsJob.held`) due again, after its rules changed. */
  releaseHeld(deviceId: number): Promise<number>;
  /**
   * Marks a pool message's job as emitted to this device before the phone can have it, writing `data` in
   * the same call when given (ADR 2221 §6): the pool mover never moves it then.
   */
  markEmitted(deviceId: number, messageId: number, data?: SendSmsJob): Promise<void>;
  /** `markEmitted` of several jobs without data, in one call. */
  markEmittedMany(deviceId: number, messageIds: readonly number[]): Promise<void>;
  /** Per-SIM quotas: takes a message from its slot's counters, or says until when it must wait (ADR 2201). */
  quotas: {
    reserve(deviceId: number, slot: SimSlot, quota: SimQuota, zone: string): Promise<QuotaReservation>;
    release(keys: string[]): Promise<void>;
  };
  /** Bounds the fetches and completions of every session of this node (urgent ones skip the line). */
  queueCalls: CallGate;
  metrics: Metrics;
  log: { warn(object: object, message: string): void; debug(object: object, message: string): void };
}

interface InFlight {
  job: DeviceJob;
  settled: boolean;
}

function isSendSmsJob(data: unknown): data is SendSmsJob {
  const job = data as Partial<SendSmsJob> | undefined;
  return (
    typeof job?.messageId === 'number' &&
    typeof job.validUntil === 'number' &&
    typeof job.sendto === 'string' &&
    typeof job.body === 'string'
  );
}

/** Added to a phone's delay: network jitter must not bring two messages closer than it at the phone. */
const PACE_JITTER_MARGIN_MS = 50;
/** The last pause between retries of recording an ack (≈ 8 s in all, well within the job lock). */
const ACK_RETRY_MAX_DELAY_MS = 4_000;

/** The gap before the next message: a fixed pace, or a new draw from a random one (issue 22). */
function drawGapMs(settings: DeviceSettings): number {
  const gap = drawPaceMs(settings);
  return gap > 0 ? gap + PACE_JITTER_MARGIN_MS : 0;
}

function isPaced(settings: DeviceSettings): boolean {
  return paceRangeMs(settings)[1] > 0;
}

/** The device queue's calls a session makes (a BullMQ manual worker; an in-memory one in unit tests). */
export type SessionWorker = Pick<
  DeviceWorker,
  'fetch' | 'completeAndFetch' | 'startStalledCheckTimer' | 'close' | 'nextDelayedAt'
>;

/**
 * One phone's session, whatever carries its messages (`SessionTransport`): owns its device queue while it
 * holds the device's lease and hands the phone messages, never more than `window` unacknowledged and
 * never two closer than `delaybetweeneachsms` (or a gap drawn per message from its random range). An acked message is reported "taken" (2) before its job
 * completes; an unacked one goes back to the front of its queue (at least once).
 */
export class DeviceSession {
  private readonly inFlight = new Map<string, InFlight>();
  /** Lock token of this session's jobs, and the owner name in the device's lease. */
  readonly token: string;
  private pumping = false;
  private wakeRequested = false;
  /** An urgent message was signalled and no fetch has started since (see `hasFreeSlot`). */
  private urgentWaiting = false;
  /** Lets the pump's fetch go at once while it waits for a slot of the node's gate (urgent work arrived). */
  private fetchNow?: () => void;
  private closed = false;
  /**
   * Set once the session holds the lease and has taken back the previous owner's jobs. The session is
   * registered (and can be woken by a work signal) before that: a fetch then could send a message the
   * reclaim puts straight back in the queue, and the phone got it twice (status-pipeline, once in CI).
   */
  private started = false;
  /** Acks being recorded: closing waits for them, so that a stop leaves no job active behind. */
  private readonly finishing = new Set<Promise<void>>();
  private nextSendAt = 0;
  /** When the last message was handed to the phone (0: none yet); a new pace counts from it. */
  private lastSentAt = 0;
  private timer?: NodeJS.Timeout;
  /** The armed timer is for a moment work becomes due (pace, a scheduled job), not a plain idle poll. */
  private timerIsDue = false;
  /** Callers of `refill` waiting for the current pump to end. */
  private refillWaiters: Array<() => void> = [];

  constructor(
    readonly deviceId: number,
    readonly transport: SessionTransport,
    private readonly worker: SessionWorker,
    private settings: DeviceRules,
    private readonly context: SessionContext,
    nodeId: string,
  ) {
    this.token = `${nodeId}:${transport.connectionId}`;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Called once this session holds the device's lease. */
  async start(): Promise<void> {
    // Backstop: jobs whose lock expired go back to wait even if nobody reclaims them.
    void this.worker
      .startStalledCheckTimer()
      .catch((error: Error) => this.warn(error, 'stalled check failed'));
    try {
      const reclaimed = await this.context.reclaim(this.deviceId);
      if (reclaimed > 0)
        this.context.log.debug({ deviceId: this.deviceId, reclaimed }, 'took back jobs of a previous owner');
    } catch (error) {
      this.warn(
        error as Error,
        'could not reclaim jobs of a previous owner; they return when their lock expires',
      );
    }
    this.started = true;
    this.wake();
  }

  get currentSettings(): DeviceRules {
    return this.settings;
  }

  /** New pace or window, from now on; the phone is told as well. */
  updateSettings(settings: DeviceRules): void {
    const rulesChanged =
      JSON.stringify([settings.sendHours, settings.simQuotas]) !==
      JSON.stringify([this.settings.sendHours, this.settings.simQuotas]);
    this.settings = settings;
    // What waits for the old hours or quotas is judged again under the new ones (the API does this too;
    // this covers a message held here after its pass and before the signal).
    if (rulesChanged && this.started)
      void this.context
        .releaseHeld(this.deviceId)
        .then(() => this.wake())
        .catch((error: Error) => this.warn(error, 'held messages not released; they wait for their time'));
    // A shorter delay applies to the next message already: its gap is drawn again under the new pace.
    if (this.lastSentAt > 0) this.nextSendAt = this.lastSentAt + drawGapMs(settings);
    this.transport.settingsChanged(settings);
    this.wake();
  }

  /**
   * Fetches what the phone may take now (its transport became ready, e.g. a pull arrived) and resolves
   * once that fetch round has ended.
   */
  refill(): Promise<void> {
    if (this.closed || !this.started) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.refillWaiters.push(resolve);
      this.wake();
    });
  }

  /** New work may be waiting: fetch now rather than at the next idle poll. `urgent`: an urgent message is due. */
  wake(urgent = false): void {
    if (this.closed) return;
    if (!this.started) {
      // start() wakes the session; the first fetch takes an urgent job first anyway (priority).
      return;
    }
    if (urgent && this.fetchNow) {
      // A fetch waiting in line takes the urgent job first (priority): it only has to stop waiting.
      this.fetchNow();
      this.fetchNow = undefined;
    } else if (urgent) this.urgentWaiting = true;
    if (this.pumping) {
      this.wakeRequested = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    let dueWake = false;
    let retryIn = this.context.idlePollMs;
    let retryIsDue = false;
    try {
      do {
        this.wakeRequested = false;
        dueWake ||= this.timerIsDue;
        this.timerIsDue = false;
        // An idle phone's poll costs one call; once a fetch finds work, the rest of the window is fetched in one round trip.
        let found = false;
        while (!this.closed && this.hasFreeSlot()) {
          const wait = this.nextSendAt - Date.now();
          if (wait > 0) {
            retryIn = wait;
            retryIsDue = true;
            break;
          }
          if (!this.transport.ready) {
            // Once per moment work became due: the phone is told, and its pull fetches.
            if (dueWake) this.transport.nudge();
            dueWake = false;
            break;
          }
          const paced = isPaced(this.settings);
          // Every fetch takes the urgent job first (priority), so one that starts now answers the signal.
          const urgentSlot = this.inFlight.size >= this.settings.window;
          const urgent = this.urgentWaiting;
          this.urgentWaiting = false;
          const count = urgentSlot ? 1 : found && !paced ? this.settings.window - this.inFlight.size : 1;
          const jobs = await this.context.queueCalls.run(
            () => this.worker.fetch(this.token, count),
            urgent,
            (goNow) => (this.fetchNow = goNow),
          );
          this.fetchNow = undefined;
          // Wake exactly when the next scheduled message is due, not at the next idle poll.
          if (jobs.length < count) {
            const untilDue = this.untilNextPoll();
            if (untilDue < retryIn) [retryIn, retryIsDue] = [untilDue, untilDue < this.context.idlePollMs];
          }
          const marked = await this.markFetchedPoolJobs(jobs);
          for (const job of jobs) await this.take(job, marked.has(job));
          if (jobs.length < count) break;
          found = true;
        }
      } while (this.wakeRequested && !this.closed);
    } catch (error) {
      this.warn(error as Error, 'fetching from the device queue failed; retrying');
    } finally {
      this.pumping = false;
      this.releaseRefillWaiters();
    }
    this.arm(retryIn, retryIsDue);
  }

  private releaseRefillWaiters(): void {
    const waiters = this.refillWaiters;
    this.refillWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Marks, in one call, the fetched pool jobs `take` will emit without a quota reservation (ADR 2221 §6):
   * one round trip per fetch, not one per emission. Jobs held back or needing a reservation are left to
   * `take` (a held one must stay movable; a reservation writes its mark with the counters).
   */
  private async markFetchedPoolJobs(jobs: DeviceJob[]): Promise<Set<DeviceJob>> {
    const marked = new Set<DeviceJob>();
    if (this.closed) return marked;
    for (const job of jobs)
      if (
        isSendSmsJob(job.data) &&
        job.data.poolId !== undefined &&
        !this.holdsBack(job) &&
        !this.quotaToReserve(job)
      )
        marked.add(job);
    if (marked.size < 2) return new Set();
    await this.context.markEmittedMany(
      this.deviceId,
      [...marked].map((job) => (job.data as SendSmsJob).messageId),
    );
    return marked;
  }

  /**
   * The slot's quota when emitting the job first takes it from there (ADR 2201): counted once, when first
   * emitted (a resend was counted then); past its validity a message is not sent (dispatch ends it as 202)
   * and takes nothing.
   */
  private quotaToReserve(job: DeviceJob): SimQuota | undefined {
    const data = job.data as SendSmsJob;
    if (data.quotaKeys || data.validUntil < Date.now()) return undefined;
    return quotaOfSlot(this.settings.simQuotas, data.sim);
  }

  /**
   * A fetched job: sent, or handed back if the session ended meanwhile, or discarded if Redis lost its data.
   * `marked`: its emission mark is written (judged not held back moments ago, by `markFetchedPoolJobs`).
   */
  private async take(job: DeviceJob, marked = false): Promise<void> {
    if (this.closed) {
      await this.requeue(job);
    } else if (!isSendSmsJob(job.data)) {
      await this.discardBroken(job);
    } else if (!marked && this.holdsBack(job)) {
      const hours = this.settings.sendHours as SendHours;
      await this.hold(job, 'hours', nextSendOpening(hours, Date.now()));
    } else {
      const quota = this.quotaToReserve(job);
      if (quota) {
        const reservation = await this.context.quotas.reserve(
          this.deviceId,
          job.data.sim,
          quota,
          quotaZoneOf(this.settings.sendHours),
        );
        if ('heldUntil' in reservation) {
          await this.hold(job, 'quota', reservation.heldUntil);
          return;
        }
        if (this.closed) {
          // The phone left while the quota was asked: nothing was sent.
          await this.context.quotas.release(reservation.keys).catch(() => undefined);
          await this.requeue(job);
          return;
        }
        // Kept with the job before the phone can have it, so that no resend is counted again.
        const data = { ...job.data, quotaKeys: reservation.keys };
        if (data.poolId !== undefined) {
          // One write for both: the counters and the emission mark.
          await this.context.markEmitted(this.deviceId, data.messageId, data);
          job.data = data;
        } else await job.updateData(data);
      } else if (job.data.poolId !== undefined && !marked) {
        // Every emission, not only the first: the same device id again, and a resend is rare.
        await this.context.markEmitted(this.deviceId, job.data.messageId);
      }
      if (this.closed) {
        await this.requeue(job);
        return;
      }
      this.lastSentAt = Date.now();
      this.nextSendAt = this.lastSentAt + drawGapMs(this.settings);
      this.dispatch(job);
    }
  }

  /**
   * Whether the phone may not send this message now: outside its send hours (unless the message is
   * urgent and the hours let urgent ones through). A message past its validity is never held: `dispatch`
   * ends it as 202 at once.
   */
  private holdsBack(job: DeviceJob): boolean {
    const hours = this.settings.sendHours;
    if (!hours || (hours.urgent && job.data.urgent)) return false;
    const now = Date.now();
    return job.data.validUntil >= now && !isWithinSendHours(hours, now);
  }

  /**
   * Moves the job back to delayed until the phone may send it (the hours open, the quota's period rolls
   * over; or its validity ends, then it ends as 202), marked held so that a change of the rules makes it
   * due again at once. Nothing spins meanwhile: the queue's next delayed job wakes the session (ADR 0401).
   */
  private async hold(job: DeviceJob, reason: 'hours' | 'quota', opensAt: number): Promise<void> {
    const until = Math.min(opensAt, job.data.validUntil + 1);
    try {
      if (job.data.held !== reason) await job.updateData({ ...job.data, held: reason });
      await job.moveToDelayed(until, this.token);
      this.context.metrics.messagesHeld.inc({ reason });
      this.context.log.debug(
        {
          deviceId: this.deviceId,
          messageId: job.data.messageId,
          reason,
          until: new Date(until).toISOString(),
        },
        'the phone may not send it now; held back',
      );
    } catch (error) {
      // Still active under our lock: the stalled check puts it back to wait, and it is judged again.
      this.warn(error as Error, 'could not hold a message back; it returns when its lock expires');
    }
  }

  /**
   * A slot is free when fewer than `window` messages are in flight. In flight includes messages the phone
   * has acknowledged whose outcome we are still recording (report queued, job completed): under load that
   * is most of the window, and waiting for it is what kept urgent messages seconds behind. The protocol's
   * window counts only unacknowledged `sms` events, so an urgent message may take a recording one's slot.
   */
  private hasFreeSlot(): boolean {
    if (this.inFlight.size < this.settings.window) return true;
    if (!this.urgentWaiting) return false;
    let unacknowledged = 0;
    for (const entry of this.inFlight.values()) if (!entry.settled) unacknowledged++;
    return unacknowledged < this.settings.window;
  }

  /**
   * One timer per session: the next idle poll, or (`due`) the moment the pace allows the next message or
   * a scheduled one is due.
   */
  private arm(ms: number, due = false): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timerIsDue = due;
        this.wake();
      },
      Math.max(ms, 1),
    );
  }

  private dispatch(job: DeviceJob): void {
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
    this.transport.deliver(
      payload,
      this.context.ackTimeoutMs,
      (answer: DeliveryAnswer) => void this.onAnswer(entry, answer),
    );
    this.context.metrics.messagesDispatched.inc();
    this.context.metrics.dispatchLatency.observe(Metrics.secondsSince(job.timestamp + (job.delay ?? 0)));
    this.context.log.debug({ deviceId: this.deviceId, messageId: data.messageId }, 'sms emitted');
  }

  private async onAnswer(entry: InFlight, answer: DeliveryAnswer): Promise<void> {
    if (entry.settled) return;
    const messageId = entry.job.data.messageId;
    const at = new Date().toISOString();
    if ('timedOut' in answer) {
      await this.onAckTimeout(entry, at);
    } else if (answer.accepted) {
      await this.finish(entry, { messageId, status: MessageStatus.TakenFromServer, at });
    } else {
      await this.releaseQuota(entry);
      await this.finish(entry, {
        messageId,
        status: MessageStatus.RejectedByPhone,
        at,
        error: toStorableText(answer.reason.slice(0, 500)),
      });
    }
  }

  /**
   * No ack in time: back to the front of the queue, unless the phone let this many sends pass unacknowledged
   * (an app that crashes on the message): then it ends as 204, so it stops holding a window slot for ever.
   * The count lives in the job, so it survives reconnects and other dispatcher nodes.
   */
  private async onAckTimeout(entry: InFlight, at: string): Promise<void> {
    const { messageId, unackedSends = 0 } = entry.job.data;
    const sends = unackedSends + 1;
    if (sends >= this.context.maxUnackedSends) {
      this.context.log.warn({ deviceId: this.deviceId, messageId, sends }, 'never acknowledged; given up');
      await this.finish(entry, {
        messageId,
        status: MessageStatus.NoAck,
        at,
        error: `sent to the phone ${sends} times, never acknowledged`,
      });
      return;
    }
    entry.settled = true;
    this.inFlight.delete(entry.job.id as string);
    this.context.log.debug({ deviceId: this.deviceId, messageId }, 'no ack in time; back to the queue');
    this.context.metrics.resends.inc({ reason: 'ack_timeout' });
    try {
      await entry.job.updateData({ ...entry.job.data, unackedSends: sends });
    } catch (error) {
      this.warn(error as Error, 'could not count an unacknowledged send');
    }
    await this.requeue(entry.job);
    // The message is due again at once: a phone that pulls is told so.
    this.timerIsDue = true;
    this.wake();
  }

  private async finish(entry: InFlight, report: StatusReport): Promise<void> {
    entry.settled = true;
    // Its slot is free for an urgent message now, not only once this outcome is recorded.
    if (this.urgentWaiting) this.wake();
    const recording = this.record(entry, report);
    this.finishing.add(recording);
    await recording;
    this.finishing.delete(recording);
  }

  /**
   * Records the outcome, then completes the job: a crash in between means a resend, never a loss. Without
   * a pace, the same call takes the next job into the slot this one frees (one round trip, not two).
   */
  private async record(entry: InFlight, report: StatusReport): Promise<void> {
    let refilled = false;
    let next: DeviceJob | undefined;
    try {
      // A Redis refusing writes for a moment (full: F10) must not leave the job active until its lock
      // expires: the phone has the message, so a few quick retries save a resend and a stalled job.
      await this.retryBriefly(() => this.context.report(this.deviceId, [report]));
      // This entry still holds its slot, so the window cannot be exceeded by the job fetched into it.
      if (
        !this.closed &&
        this.transport.ready &&
        !isPaced(this.settings) &&
        this.inFlight.size <= this.settings.window
      ) {
        next = await this.retryBriefly(() =>
          this.context.queueCalls.run(() => this.worker.completeAndFetch(entry.job, this.token)),
        );
        refilled = true;
      } else {
        await this.retryBriefly(() =>
          this.context.queueCalls.run(() => entry.job.moveToCompleted(undefined, this.token, false)),
        );
      }
    } catch (error) {
      // The job keeps its lock until it expires; the stalled check then puts it back (resent, de-duplicated).
      this.warn(error as Error, 'could not record an ack; the message will be resent');
    } finally {
      this.inFlight.delete(entry.job.id as string);
    }
    if (next) {
      await this.take(next);
      // Other slots may be free too (the queue had run dry before this job arrived).
      if (this.inFlight.size < this.settings.window) this.wake();
    } else if (refilled) {
      // The refill just found the queue empty: no fetch until new work is signalled or a delayed job is due.
      if (!this.pumping) this.arm(this.untilNextPoll());
    } else {
      this.wake();
    }
  }

  /** The idle poll, or sooner if the queue's next delayed job is due before it. */
  private untilNextPoll(): number {
    const dueAt = this.worker.nextDelayedAt;
    const poll = this.context.idlePollMs;
    return dueAt > 0 ? Math.min(poll, dueAt - Date.now()) : poll;
  }

  /**
   * A job whose data Redis lost (keys deleted while it moved): nothing to send. It goes away so that
   * `reconcile`, which decides from PostgreSQL, can queue the message again.
   */
  private async discardBroken(job: DeviceJob): Promise<void> {
    this.context.log.warn(
      { deviceId: this.deviceId, jobId: job.id },
      'job without its data (Redis lost it); discarded, run reconcile to queue the message again',
    );
    try {
      await job.moveToCompleted(undefined, this.token, false);
      await job.remove();
    } catch (error) {
      this.warn(error as Error, 'could not discard a broken job');
    }
  }

  /** Runs `write` again after 0.25, 0.5, 1, 2 and 4 s if it fails, unless the phone left meanwhile. */
  private async retryBriefly<T>(write: () => Promise<T>): Promise<T> {
    for (let delayMs = 250; ; delayMs *= 2) {
      try {
        return await write();
      } catch (error) {
        if (this.closed || delayMs > ACK_RETRY_MAX_DELAY_MS) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /**
   * Gives back what a message took from its SIM's quota: the phone refused it, so it was not sent. Only
   * then: a message without an ack may have been sent (ADR 2201). A failure leaves the counter one high
   * until its period ends: the SIM sends less, never more.
   */
  private async releaseQuota(entry: InFlight): Promise<void> {
    const keys = entry.job.data.quotaKeys;
    if (!keys) return;
    await this.context.quotas
      .release(keys)
      .catch((error: Error) => this.warn(error, 'quota not given back; the SIM sends less this period'));
  }

  private async requeue(job: DeviceJob): Promise<void> {
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
    this.releaseRefillWaiters();
    const pending = [...this.inFlight.values()].filter((entry) => !entry.settled);
    for (const entry of pending) entry.settled = true;
    this.inFlight.clear();
    if (pending.length > 0) this.context.metrics.resends.inc({ reason: 'disconnect' }, pending.length);
    await Promise.all([...pending.map((entry) => this.requeue(entry.job)), ...this.finishing]);
    await this.worker.close().catch((error: Error) => this.warn(error, 'closing the device worker failed'));
  }

  private warn(error: Error, message: string): void {
    this.context.log.warn({ deviceId: this.deviceId, err: error }, message);
  }
}
