import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OpenedWebhookSecret, WebhookSecrets } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { Metrics } from '@smsfleet/observability';
import {
  AttemptRecord,
  ClaimedDelivery,
  claimDueDeliveries,
  CoalescingBatcher,
  disableWebhook,
  FailedAttempt,
  preferOrderedClaim,
  recordDeliveredMany,
  recordFailedAttempts,
  releaseDeliveries,
  renewLeases,
  resealWebhookSecret,
  webhookBacklog,
} from '@smsfleet/persistence';
import {
  AddressPolicy,
  batchBody,
  BoundedMemo,
  DeliveryOutcome,
  disableReason,
  nextRetry,
  retryPolicy,
  RetryPolicyOptions,
  SafeHttpClient,
  signedHeaders,
} from '@smsfleet/webhooks';

/** A lease outlives the longest POST by this much (a wait for a free slot and the bookkeeping included). */
const LEASE_MARGIN_SECONDS = 30;
/** Of that margin, what a claimed delivery keeps for its bookkeeping: one not started by then is given back. */
const RECORD_MARGIN_MS = 15_000;
/**
 * A claim takes up to this many times WEBHOOK_CONCURRENCY deliveries (one statement per chunk), and the
 * next claim starts when half of them are left: sends never wait for a claim while work is due.
 */
const CLAIM_CHUNK_FACTOR = 8;
/** Leases held are renewed this many times per lease: one missed renewal still leaves most of it. */
const RENEWALS_PER_LEASE = 4;
/** Bookkeeping statements in flight at once, per kind; outcomes arriving meanwhile share the next one. */
const RECORDS_IN_FLIGHT = 2;
/** Why a subscription whose receiver answered 410 is disabled (and its deliveries failed). */
const GONE = 'the receiver answered 410 Gone';
/** Pause after a failed claim or bookkeeping (PostgreSQL away), doubling up to the maximum. */
const RETRY_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * Sends webhook deliveries (docs/webhooks.md). Claims due deliveries with a lease (SKIP LOCKED, so
 * replicas never send one at once; the claim holds back a message's later events while an earlier one is
 * undelivered), POSTs each with SafeHttpClient — the stored envelope as the body, signed with the
 * subscription's secret (and the rotated-out one during its grace) — and records the outcome: 2xx
 * delivered; 410 disables the subscription; anything else is retried with backoff and jitter (Retry-After
 * honoured) until the retry window ends. A subscription failing for WEBHOOK_DISABLE_AFTER_SECONDS is
 * disabled with the reason. On shutdown no new claim is made, claimed deliveries not started are given
 * back, and sends in flight finish and are recorded.
 *
 * Throughput: one claim statement per chunk (up to 8 × WEBHOOK_CONCURRENCY deliveries; the next claimed
 * while half of it is still to send), a slot freed at the POST's answer, and outcomes recorded together
 * (one statement for the 2xx that arrived while the previous was written, one for failures). Claiming one
 * delivery per freed slot, each slot held through its own commit, capped a worker at about 200
 * deliveries/s on a receiver that answers at once (docs/benchmarks.md). A claimed delivery waits for a
 * slot at most until its lease could no longer cover its POST and bookkeeping; then it is given back,
 * never sent late.
 *
 * Leases: each claim has a token, and every later write about its deliveries — renewal, give-back,
 * outcome — applies only where the delivery still holds it. Every lease held (claimed, being sent, or
 * with its outcome still to write) is renewed RENEWALS_PER_LEASE times per lease, so it never ends while
 * this worker lives and reaches PostgreSQL: a delivery is sent again only after a crash (or a worker cut
 * off for a whole lease, whose late writes then change nothing).
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private readonly client: SafeHttpClient;
  private readonly policy: RetryPolicyOptions;
  /** POSTs in flight (at most WEBHOOK_CONCURRENCY). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Outcomes being written. */
  private readonly recording = new Set<Promise<void>>();
  /** Claimed, waiting for a slot, oldest claim first; each with the local time its POST must start by. */
  private ready: Array<{ delivery: ClaimedDelivery; startBy: number }> = [];
  /** Every lease this worker holds, by delivery id, until its outcome is written or it is given back. */
  private readonly held = new Map<string, ClaimedDelivery>();
  private renewTimer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private readonly delivered: CoalescingBatcher<AttemptRecord, boolean>;
  private readonly failed: CoalescingBatcher<FailedAttempt, Date>;
  private stopped = false;
  /** Stored secrets being sealed again (`<webhook id>:<column>:<stored>`): one write per row, not per delivery. */
  private readonly resealing = new Map<string, Promise<void>>();
  private loop?: Promise<void>;
  private wake?: () => void;
  /** The largest batch_size among the deliveries last claimed: a POST then takes that many, not one. */
  private batchSeen = 1;
  /**
   * Stored secrets opened, by account and stored text: unsealing (AES-GCM) on every POST was 6 % of this
   * process's CPU at one event per POST. The same stored text under the same keys always opens the same
   * way, and a rotation or reseal stores a new text.
   */
  private readonly opened: BoundedMemo<OpenedWebhookSecret | undefined | Error>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly secrets: WebhookSecrets,
  ) {
    const webhooks = config.webhooks;
    this.client = new SafeHttpClient({
      policy: new AddressPolicy({ allowPrivateTargets: webhooks.allowPrivateTargets }),
      timeoutMs: webhooks.timeoutMs,
    });
    this.policy = retryPolicy({
      baseDelayMs: webhooks.retryBaseMs,
      maxDelayMs: webhooks.retryMaxDelayMs,
      minDelayMs: Math.min(1_000, webhooks.retryMaxDelayMs),
      giveUpAfterMs: webhooks.retryWindowMs,
      disableAfterMs: webhooks.disableAfterMs,
    });
    this.opened = new BoundedMemo((key) => {
      const split = key.indexOf(':');
      try {
        return this.secrets.open(key.slice(split + 1), Number(key.slice(0, split)));
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
    this.delivered = new CoalescingBatcher((items) => recordDeliveredMany(db, items), RECORDS_IN_FLIGHT);
    this.failed = new CoalescingBatcher((items) => recordFailedAttempts(db, items), RECORDS_IN_FLIGHT);
  }

  /** WEBHOOK_DELIVERY=off: this replica neither claims nor reports the backlog (another deployment does). */
  onApplicationBootstrap(): void {
    if (!this.config.webhooks.delivery) return;
    this.metrics.onScrape(() => this.refreshBacklog());
    this.loop = this.run();
    const every = (this.leaseSeconds() * 1_000) / RENEWALS_PER_LEASE;
    this.renewTimer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    }, every);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.giveBack(this.ready.splice(0).map((held) => held.delivery));
    await Promise.all(this.inFlight);
    await Promise.all(this.recording);
    clearInterval(this.renewTimer);
    await this.renewing;
    await Promise.all(this.resealing.values());
    this.client.close();
  }

  /**
   * Deliveries one claim takes: CLAIM_CHUNK_FACTOR per slot, or while batches are being sent a full batch
   * per slot, so that every slot's POST can carry one (a claim of 128 fed two POSTs of 100).
   */
  private chunk(): number {
    return this.config.webhooks.concurrency * Math.max(CLAIM_CHUNK_FACTOR, this.batchSeen);
  }

  private leaseSeconds(): number {
    return Math.ceil(this.config.webhooks.timeoutMs / 1_000) + LEASE_MARGIN_SECONDS;
  }

  /** The local time by which a delivery whose lease began after `from` must start its POST. */
  private startDeadline(from: number): number {
    return from + this.leaseSeconds() * 1_000 - this.config.webhooks.timeoutMs - RECORD_MARGIN_MS;
  }

  private async run(): Promise<void> {
    const { pollMs } = this.config.webhooks;
    const leaseSeconds = this.leaseSeconds();
    let failures = 0;
    while (!this.stopped) {
      this.startReady();
      const chunk = this.chunk();
      // Enough is claimed already: wait until a send ends with half a chunk or less left.
      if (this.ready.length >= chunk / 2) {
        await this.sleep(pollMs);
        continue;
      }
      const want = chunk - this.ready.length;
      const claimedAt = Date.now();
      let claimed: ClaimedDelivery[];
      try {
        claimed = await this.db.transaction(async (tx) => {
          await preferOrderedClaim(tx);
          return claimDueDeliveries(tx, want, leaseSeconds);
        });
        failures = 0;
      } catch (error) {
        failures++;
        this.logger.warn({ err: error }, 'webhook deliveries not claimed; retrying');
        await this.sleep(Math.min(RETRY_MS * 2 ** (failures - 1), RETRY_MAX_MS));
        continue;
      }
      // The lease began after `claimedAt` by PostgreSQL's clock; counted from here it ends no later.
      const startBy = this.startDeadline(claimedAt);
      for (const delivery of claimed) {
        this.held.set(delivery.id, delivery);
        this.ready.push({ delivery, startBy });
      }
      if (claimed.length > 0) this.batchSeen = Math.max(...claimed.map((d) => d.batch_size));
      this.startReady();
      // A short claim: nothing else is due now; look again after the poll interval (or when a send ends).
      if (claimed.length < want) await this.sleep(pollMs);
    }
  }

  /**
   * Starts claimed deliveries while slots are free; gives back those whose lease no longer covers a send.
   * A slot is a POST: its bookkeeping goes on without it (written with others' in one statement), up to a
   * chunk's worth of outcomes waiting to be written, beyond which no new POST starts.
   */
  private startReady(): void {
    if (this.stopped) return;
    const { concurrency } = this.config.webhooks;
    const chunk = this.chunk();
    const late: ClaimedDelivery[] = [];
    while (this.inFlight.size < concurrency && this.recording.size < chunk && this.ready.length > 0) {
      const { delivery, startBy } = this.ready.shift()!;
      if (Date.now() > startBy) {
        late.push(delivery);
        continue;
      }
      const group = [delivery, ...this.companions(delivery)];
      const sending: Promise<void> = this.send(group).then((outcome) => {
        this.inFlight.delete(sending);
        const recording: Promise<void> = this.keep(group, outcome).finally(() => {
          this.recording.delete(recording);
          this.startReady();
        });
        this.recording.add(recording);
        this.startReady();
        if (this.ready.length < chunk / 2) this.wake?.();
      });
      this.inFlight.add(sending);
    }
    if (late.length > 0) void this.giveBack(late);
  }

  /**
   * For a subscription taking batches: up to batch_size − 1 more of its claimed deliveries, oldest first,
   * taken out of `ready` to share the first one's POST. Only those still in time and claimed with the
   * same URL and secrets (a change between two claims splits them). The claim holds at most one
   * undelivered event per message and subscription, so a batch never orders two events of one message.
   */
  private companions(first: ClaimedDelivery): ClaimedDelivery[] {
    const taken: ClaimedDelivery[] = [];
    if (first.batch_size <= 1) return taken;
    const now = Date.now();
    this.ready = this.ready.filter((entry) => {
      const d = entry.delivery;
      const joins =
        taken.length < first.batch_size - 1 &&
        d.webhook_id === first.webhook_id &&
        d.url === first.url &&
        d.secret === first.secret &&
        d.previous_secret === first.previous_secret &&
        now <= entry.startBy;
      if (joins) taken.push(d);
      return !joins;
    });
    return taken;
  }

  /** Claimed and not sent: free for any worker now rather than at the lease's end. */
  private async giveBack(deliveries: ClaimedDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    for (const delivery of deliveries) this.held.delete(delivery.id);
    try {
      await releaseDeliveries(
        this.db,
        deliveries.map((delivery) => ({ deliveryId: delivery.id, leaseToken: delivery.lease_token })),
      );
    } catch (error) {
      // Their leases end by themselves: claimed again then.
      this.logger.warn({ err: error, deliveries: deliveries.length }, 'webhook deliveries not given back');
    }
  }

  /**
   * Extends every lease held. One renewed moves its start deadline on, if still waiting; one waiting that
   * is no longer this worker's (its lease ended while PostgreSQL was out of reach, and another claim took
   * it) is dropped unsent. A failed renewal changes nothing: the start deadlines stand and the next tries.
   */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const started = Date.now();
    const leases = [...this.held.values()].map((d) => ({ deliveryId: d.id, leaseToken: d.lease_token }));
    let renewed: Set<string>;
    try {
      renewed = await renewLeases(this.db, leases, this.leaseSeconds());
    } catch (error) {
      this.logger.warn({ err: error, deliveries: leases.length }, 'webhook leases not renewed');
      return;
    }
    const startBy = this.startDeadline(started);
    // Ids as text: the driver may give a bigint as a number or a string.
    const lost = new Set(leases.map((l) => String(l.deliveryId)).filter((id) => !renewed.has(id)));
    this.ready = this.ready.filter((entry) => {
      const id = String(entry.delivery.id);
      if (renewed.has(id)) entry.startBy = Math.max(entry.startBy, startBy);
      if (!lost.has(id)) return true;
      this.held.delete(entry.delivery.id);
      this.logger.warn(
        { deliveryId: entry.delivery.id, webhookId: entry.delivery.webhook_id },
        'webhook lease lost before its send; not sent',
      );
      return false;
    });
  }

  /**
   * One POST of one subscription's deliveries, signed with its secrets: the stored envelope alone, or for a
   * subscription taking batches `{"events":[…]}` with their ids listed in the event id header. Never
   * throws (every problem is an outcome).
   */
  private async send(group: ClaimedDelivery[]): Promise<DeliveryOutcome> {
    const delivery = group[0];
    const current = this.openSecret(delivery, 'secret', delivery.secret);
    if (current === undefined)
      // Sealed with a key no longer configured: nothing could sign it. Retried like any failure, so
      // restoring the old secret as TOKEN_SECRET_PREVIOUS within the retry window loses nothing.
      return {
        kind: 'failed',
        latencyMs: 0,
        error: 'the webhook secret is sealed with a TOKEN_SECRET no longer configured; not sent',
      };
    const previous =
      delivery.previous_secret === null
        ? undefined
        : this.openSecret(delivery, 'previous_secret', delivery.previous_secret);
    const secrets = [current, ...(previous === undefined ? [] : [previous])];
    const batched = delivery.batch_size > 1;
    // Encoded once: the bytes signed are the bytes sent.
    const body = Buffer.from(batched ? batchBody(group.map((d) => d.body)) : delivery.body);
    const eventIds = group.map((d) => d.event_id).join(',');
    const outcome = await this.client.postJson(delivery.url, body, signedHeaders(eventIds, body, secrets));
    this.metrics.webhookDeliverySeconds.observe(outcome.latencyMs / 1_000);
    return outcome;
  }

  /**
   * The secret a stored value holds (undefined: sealed under a key no longer configured). One in clear (a
   * row from before sealing) or sealed with an earlier TOKEN_SECRET is sealed with today's key on use, in
   * the background: the POST never waits for it, and a failed write is made again by the next delivery.
   */
  private openSecret(
    delivery: ClaimedDelivery,
    column: 'secret' | 'previous_secret',
    stored: string,
  ): string | undefined {
    const opened = this.opened.get(`${delivery.user_id}:${stored}`);
    if (opened instanceof Error) {
      this.logger.error({ err: opened, webhookId: delivery.webhook_id }, 'webhook secret not opened');
      return undefined;
    }
    if (opened === undefined) {
      this.logger.warn(
        { webhookId: delivery.webhook_id, column },
        'webhook secret sealed with an unknown key',
      );
      return undefined;
    }
    const key = `${delivery.webhook_id}:${column}:${stored}`;
    if (opened.reseal && !this.resealing.has(key)) {
      const sealed = this.secrets.seal(opened.secret, delivery.user_id);
      const writing = resealWebhookSecret(this.db, delivery.webhook_id, column, stored, sealed)
        .then((changed) => {
          if (changed) this.logger.log({ webhookId: delivery.webhook_id, column }, 'webhook secret sealed');
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: error, webhookId: delivery.webhook_id }, 'webhook secret not sealed yet'),
        )
        .finally(() => this.resealing.delete(key));
      this.resealing.set(key, writing);
    }
    return opened.secret;
  }

  /**
   * A POST's bookkeeping, one outcome for each delivery it carried (written together: they are submitted
   * in one turn), retried a few times; never throws (a lost one leaves the lease to expire).
   */
  private async keep(group: ClaimedDelivery[], outcome: DeliveryOutcome): Promise<void> {
    const disable = this.disablerOf(group[0].webhook_id);
    await Promise.all(
      group.map(async (delivery) => {
        try {
          await this.keepTrying(delivery, outcome, disable);
        } finally {
          this.held.delete(delivery.id);
        }
      }),
    );
  }

  /**
   * Disables a POST's subscription once for every delivery it carried: a batch answered 410 is one UPDATE
   * and one log line, not one per event. A failed UPDATE is tried again by the next caller.
   */
  private disablerOf(webhookId: number): (reason: string) => Promise<void> {
    let disabling: Promise<void> | undefined;
    return (reason) =>
      (disabling ??= disableWebhook(this.db, webhookId, reason).then(
        () => this.logger.log({ webhookId, reason }, 'webhook disabled'),
        (error: unknown) => {
          disabling = undefined;
          throw error;
        },
      ));
  }

  private async keepTrying(
    delivery: ClaimedDelivery,
    outcome: DeliveryOutcome,
    disable: (reason: string) => Promise<void>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.record(delivery, outcome, disable);
        return;
      } catch (error) {
        if (attempt >= 3 || this.stopped) {
          // Sent but not recorded: the lease ends and it is sent again, with the same event id.
          this.logger.warn(
            {
              err: error,
              deliveryId: delivery.id,
              webhookId: delivery.webhook_id,
              eventId: delivery.event_id,
            },
            'webhook delivery outcome not recorded; it will be sent again',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS * attempt));
      }
    }
  }

  private async record(
    delivery: ClaimedDelivery,
    outcome: DeliveryOutcome,
    disable: (reason: string) => Promise<void>,
  ): Promise<void> {
    const attempt: AttemptRecord = {
      deliveryId: delivery.id,
      leaseToken: delivery.lease_token,
      webhookId: delivery.webhook_id,
      statusCode: outcome.status,
      latencyMs: outcome.latencyMs,
      error: outcome.error,
    };
    const now = new Date();
    const ids = { deliveryId: delivery.id, webhookId: delivery.webhook_id, eventId: delivery.event_id };
    if (outcome.kind === 'delivered') {
      const recorded = await this.delivered.submit(attempt);
      this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
      // Another claim holds it now (this worker was cut off for a whole lease): that claim records it.
      if (!recorded) this.logger.warn(ids, 'webhook delivered after its lease was taken over; not recorded');
      return;
    }
    if (outcome.kind === 'gone') {
      // Delivered nowhere: kept, retried once the owner resumes the subscription. Disabled first, while
      // this worker still holds the lease: recorded first, the delivery (due at once) could be claimed
      // and sent again before the subscription is disabled.
      await disable(GONE);
      await this.failed.submit({ ...attempt, error: GONE, retryAt: now });
      this.metrics.webhookDeliveries.inc({ outcome: 'gone' });
      return;
    }
    const decision = nextRetry(
      {
        attempts: delivery.attempts + 1,
        firstAttemptAt: delivery.first_attempt_at ?? now,
        now,
        retryAfterMs: outcome.retryAfterMs,
      },
      this.policy,
    );
    const error = decision.retry ? outcome.error : `${outcome.error ?? 'failed'}; ${decision.reason}`;
    const failingSince = await this.failed.submit({
      ...attempt,
      error,
      retryAt: decision.retry ? decision.at : null,
    });
    this.metrics.webhookDeliveries.inc({ outcome: decision.retry ? outcome.kind : 'given_up' });
    const reason = disableReason(
      { failingSince, now, lastOutcome: { kind: outcome.kind, error: outcome.error } },
      this.policy,
    );
    if (reason !== undefined) await disable(reason);
  }

  private async refreshBacklog(): Promise<void> {
    const { pending, oldestSeconds } = await webhookBacklog(this.db);
    this.metrics.webhookEventsPending.set(pending);
    this.metrics.webhookOldestPending.set(oldestSeconds);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
