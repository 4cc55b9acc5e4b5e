import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Refreshes gauges that are read on demand (queue depths, …) just before a scrape. */
export type ScrapeRefresher = () => Promise<void>;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** A refresher that hangs must not hang the scrape. */
const REFRESH_TIMEOUT_MS = 5_000;

/**
 * Every Prometheus metric of smsfleet, in one registry per process with an `app` label. Labels are bounded
 * by construction: routes are route templates, statuses are status codes, nodes are dispatcher nodes —
 * never a message id, a phone number or a device id (except the top-10 backlog gauge, ten series at most).
 */
@Injectable()
export class Metrics {
  private readonly logger = new Logger(Metrics.name);
  readonly registry = new Registry();
  private readonly refreshers: ScrapeRefresher[] = [];

  // intake (api)
  readonly messagesAccepted = new Counter({
    name: 'smsfleet_messages_accepted_total',
    help: 'Messages stored by the API (one per recipient).',
    registers: [this.registry],
  });
  readonly intakeDuration = new Histogram({
    name: 'smsfleet_intake_duration_seconds',
    help: 'Time to store and enqueue the messages of one request.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  // dispatch (dispatcher)
  readonly messagesDispatched = new Counter({
    name: 'smsfleet_messages_dispatched_total',
    help: 'sms events emitted to phones (a resend counts again).',
    registers: [this.registry],
  });
  readonly dispatchLatency = new Histogram({
    name: 'smsfleet_dispatch_latency_seconds',
    help: 'From the moment a message was due (queued or its send time) to its emission to a phone.',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly resends = new Counter({
    name: 'smsfleet_messages_resent_total',
    help: 'Messages handed back to their queue unacknowledged, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly messagesHeld = new Counter({
    name: 'smsfleet_messages_held_total',
    help: 'Due messages a session moved back to delayed because their phone may not send now, by reason (hours: outside its send hours; quota: the quota of its SIM used up).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly simQuotaUsed = new Gauge({
    name: 'smsfleet_sim_quota_used',
    help: 'Messages a SIM slot took in the current period, as its quota counter holds them (devices with quotas only).',
    labelNames: ['device', 'slot', 'period'] as const,
    registers: [this.registry],
  });
  readonly simQuotaLimit = new Gauge({
    name: 'smsfleet_sim_quota_limit',
    help: 'The quota of a SIM slot per period (devices with quotas only).',
    labelNames: ['device', 'slot', 'period'] as const,
    registers: [this.registry],
  });
  readonly phonesLimited = new Counter({
    name: 'smsfleet_phone_limited_total',
    help: 'What phones sent over their limits (ADR 1602): handshakes and app requests refused, events dropped, phones sent away, streams refused.',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });
  readonly phonesOnline = new Gauge({
    name: 'smsfleet_phones_online',
    help: 'Phones connected to this dispatcher node.',
    labelNames: ['node'] as const,
    registers: [this.registry],
  });

  // status (status app)
  readonly messagesFinal = new Counter({
    name: 'smsfleet_messages_final_total',
    help: 'Messages that reached a final status, by status code (7 delivered, 202 expired, …).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly statusBatchSize = new Histogram({
    name: 'smsfleet_status_batch_size',
    help: 'Status reports written per PostgreSQL transaction.',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers: [this.registry],
  });
  readonly statusLag = new Histogram({
    name: 'smsfleet_status_lag_seconds',
    help: 'From a status report committed to the status inbox to its commit in messages.',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  // refused rows (dispatcher, status app; ADR 1601)
  readonly deadLetters = new Counter({
    name: 'smsfleet_dead_letters_total',
    help: 'Items PostgreSQL refused on their own after their batch was split: kept in dead_letters, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly batchSplits = new Counter({
    name: 'smsfleet_batch_splits_total',
    help: 'Halvings of a batched statement PostgreSQL refused, to find the refused item, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  // webhooks (the delivery worker, in the status app by default)
  readonly webhookEventsPending = new Gauge({
    name: 'smsfleet_webhook_events_pending',
    help: 'Webhook deliveries not yet delivered (waiting for a first attempt or a retry) of active subscriptions.',
    registers: [this.registry],
  });
  readonly webhookOldestPending = new Gauge({
    name: 'smsfleet_webhook_oldest_pending_seconds',
    help: 'Age of the oldest undelivered webhook delivery of an active subscription (0 when none).',
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'smsfleet_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered, gone (410), failed, refused (address policy), given_up.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliverySeconds = new Histogram({
    name: 'smsfleet_webhook_delivery_seconds',
    help: 'Duration of one webhook POST, from the start of the call to its outcome.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  // scheduling (scheduler)
  readonly scheduleLateness = new Histogram({
    name: 'smsfleet_schedule_lateness_seconds',
    help: 'How late the outbox sweep put a message into its queue, relative to its send time (0 = on time).',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly outboxEnqueued = new Counter({
    name: 'smsfleet_outbox_enqueued_total',
    help: 'Messages the outbox sweep moved from PostgreSQL into device queues.',
    registers: [this.registry],
  });
  readonly poolMoves = new Counter({
    name: 'smsfleet_pool_moves_total',
    help: 'Pool messages no phone was sent, moved from a draining member to another phone of their pool, by reason (offline: past the grace; quota: its SIM slot full; left: no longer in the pool).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly redisLossReconciles = new Counter({
    name: 'smsfleet_redis_loss_reconciles_total',
    help: 'Automatic queue rebuilds from PostgreSQL after the scheduler saw that Redis had lost its data.',
    registers: [this.registry],
  });
  readonly redisLossReconciledMessages = new Counter({
    name: 'smsfleet_redis_loss_reconciled_messages_total',
    help: 'Messages put back into their device queues by those automatic rebuilds.',
    registers: [this.registry],
  });

  // backlog (refreshed at scrape time by the scheduler)
  readonly queueJobs = new Gauge({
    name: 'smsfleet_queue_jobs',
    help: 'Jobs in all device queues, by state (waiting, delayed, active).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly queueTopDevices = new Gauge({
    name: 'smsfleet_queue_device_backlog',
    help: 'Waiting + delayed + active jobs of the 10 devices with the largest backlog.',
    labelNames: ['device_id'] as const,
    registers: [this.registry],
  });
  readonly oldestWaitingAge = new Gauge({
    name: 'smsfleet_oldest_waiting_message_age_seconds',
    help: 'Age of the oldest message that is due and not yet taken by a phone (0 when none).',
    registers: [this.registry],
  });
  readonly accountsWaitingWithoutPhone = new Gauge({
    name: 'smsfleet_accounts_waiting_without_phone',
    help: 'Accounts with messages waiting in their queues and no phone online.',
    registers: [this.registry],
  });
  readonly devicesWaitingOffline = new Gauge({
    name: 'smsfleet_devices_waiting_offline',
    help: 'Devices with waiting messages that are not connected to any dispatcher.',
    registers: [this.registry],
  });

  // HTTP (every app)
  readonly httpDuration = new Histogram({
    name: 'smsfleet_http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly apiErrors = new Counter({
    name: 'smsfleet_api_errors_total',
    help: 'Answers with {"error":1} (HTTP 200 on /getdata included), by route and error code.',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });

  // health
  readonly ready = new Gauge({
    name: 'smsfleet_ready',
    help: '1 when the last readiness check passed, else 0.',
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: 'smsfleet_dependency_up',
    help: 'Result of the last readiness check per dependency (1 up, 0 down).',
    labelNames: ['check'] as const,
    registers: [this.registry],
  });

  /** Without a configuration (a unit test's own instance) the metrics are labelled `app`. */
  constructor(@Optional() @Inject(APP_CONFIG) config?: AppConfig) {
    this.registry.setDefaultLabels({ app: config?.app ?? 'app' });
    // Standard names (process_*, nodejs_*), as the usual Node.js dashboards expect them.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Registers work to run before each scrape (e.g. reading queue depths). */
  onScrape(refresher: ScrapeRefresher): void {
    this.refreshers.push(refresher);
  }

  /** The Prometheus text exposition; a failing refresher leaves its gauges at their last values. */
  async render(): Promise<string> {
    await Promise.all(
      this.refreshers.map((refresh) =>
        withTimeout(refresh(), REFRESH_TIMEOUT_MS).catch((error: Error) =>
          this.logger.warn({ err: error }, 'metrics refresh failed; serving the last values'),
        ),
      ),
    );
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Seconds since `fromMs`, never negative (clocks of different hosts). */
  static secondsSince(fromMs: number, nowMs = Date.now()): number {
    return Math.max(0, (nowMs - fromMs) / 1_000);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
