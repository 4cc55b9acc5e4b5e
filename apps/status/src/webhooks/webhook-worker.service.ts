import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { Metrics } from '@smsfleet/observability';
import {
  AttemptRecord,
  ClaimedDelivery,
  claimDueDeliveries,
  disableWebhook,
  recordDelivered,
  recordFailedAttempt,
  webhookBacklog,
} from '@smsfleet/persistence';
import {
  AddressPolicy,
  DeliveryOutcome,
  disableReason,
  nextRetry,
  retryPolicy,
  RetryPolicyOptions,
  SafeHttpClient,
  signedHeaders,
} from '@smsfleet/webhooks';

/** A lease outlives the longest POST by this much (bookkeeping after it included). */
const LEASE_MARGIN_SECONDS = 30;
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
 * disabled with the reason. On shutdown no new claim is made and sends in flight finish and are recorded.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private readonly client: SafeHttpClient;
  private readonly policy: RetryPolicyOptions;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
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
  }

  /** WEBHOOK_DELIVERY=off: this replica neither claims nor reports the backlog (another deployment does). */
  onApplicationBootstrap(): void {
    if (!this.config.webhooks.delivery) return;
    this.metrics.onScrape(() => this.refreshBacklog());
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.all(this.inFlight);
    this.client.close();
  }

  private async run(): Promise<void> {
    const { concurrency, pollMs, timeoutMs } = this.config.webhooks;
    const leaseSeconds = Math.ceil(timeoutMs / 1_000) + LEASE_MARGIN_SECONDS;
    let failures = 0;
    while (!this.stopped) {
      const room = concurrency - this.inFlight.size;
      if (room <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      let claimed: ClaimedDelivery[];
      try {
        claimed = await claimDueDeliveries(this.db, room, leaseSeconds);
        failures = 0;
      } catch (error) {
        failures++;
        this.logger.warn({ err: error }, 'webhook deliveries not claimed; retrying');
        await this.sleep(Math.min(RETRY_MS * 2 ** (failures - 1), RETRY_MAX_MS));
        continue;
      }
      for (const delivery of claimed) {
        const sending: Promise<void> = this.deliver(delivery).finally(() => {
          this.inFlight.delete(sending);
          this.wake?.();
        });
        this.inFlight.add(sending);
      }
      // A short claim: nothing else is due now; look again after the poll interval (or when a send ends).
      if (claimed.length < room) await this.sleep(pollMs);
    }
  }

  /** One POST and its bookkeeping; never throws (a lost bookkeeping leaves the lease to expire). */
  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const secrets = [delivery.secret, ...(delivery.previous_secret ? [delivery.previous_secret] : [])];
    const outcome = await this.client.postJson(
      delivery.url,
      delivery.body,
      signedHeaders(delivery.event_id, delivery.body, secrets),
    );
    this.metrics.webhookDeliverySeconds.observe(outcome.latencyMs / 1_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.record(delivery, outcome);
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

  private async record(delivery: ClaimedDelivery, outcome: DeliveryOutcome): Promise<void> {
    const attempt: AttemptRecord = {
      deliveryId: delivery.id,
      webhookId: delivery.webhook_id,
      statusCode: outcome.status,
      latencyMs: outcome.latencyMs,
      error: outcome.error,
    };
    const now = new Date();
    const ids = { deliveryId: delivery.id, webhookId: delivery.webhook_id, eventId: delivery.event_id };
    if (outcome.kind === 'delivered') {
      await recordDelivered(this.db, attempt);
      this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
      return;
    }
    if (outcome.kind === 'gone') {
      // Delivered nowhere: kept, retried once the owner resumes the subscription.
      await recordFailedAttempt(this.db, { ...attempt, error: 'the receiver answered 410 Gone' }, now);
      await disableWebhook(this.db, delivery.webhook_id, 'the receiver answered 410 Gone');
      this.metrics.webhookDeliveries.inc({ outcome: 'gone' });
      this.logger.log(ids, 'webhook disabled: the receiver answered 410 Gone');
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
    const failingSince = await recordFailedAttempt(
      this.db,
      { ...attempt, error },
      decision.retry ? decision.at : null,
    );
    this.metrics.webhookDeliveries.inc({ outcome: decision.retry ? outcome.kind : 'given_up' });
    const reason = disableReason(
      { failingSince, now, lastOutcome: { kind: outcome.kind, error: outcome.error } },
      this.policy,
    );
    if (reason !== undefined) {
      await disableWebhook(this.db, delivery.webhook_id, reason);
      this.logger.log({ ...ids, reason }, 'webhook disabled');
    }
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
