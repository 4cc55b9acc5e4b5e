import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { applyPresenceTransitions, presenceCandidates, recordWebhookEvents } from '@smsfleet/persistence';
import { DevicePresence } from '@smsfleet/queueing';
import { deviceEvent, WebhookEvent } from '@smsfleet/webhooks';
import { BatchLoop } from './batch-loop';
import { decidePresence } from './presence-transition';

const PRESENCE_BATCH = 500;

/**
 * `device.online` and `device.offline` (docs/webhooks.md): presence lives in Redis, so this sweep reads it
 * for the devices of accounts subscribed to device events and records each announcement, with its
 * event, in one transaction (the transition applies only if no other sweep changed the device since it
 * was read, so replicas never announce twice). Offline is announced after WEBHOOK_OFFLINE_GRACE_SECONDS.
 */
@Injectable()
export class PresenceAnnouncerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PresenceAnnouncerService.name);
  private afterId = 0;
  private readonly loop = new BatchLoop({
    name: 'presence sweep',
    intervalMs: () => this.config.webhooks.presenceSweepMs,
    batchSize: PRESENCE_BATCH,
    runOnce: () => this.sweepOnce(),
    logger: this.logger,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly presence: DevicePresence,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(this.config.webhooks.presenceSweepMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** One page of devices; a short page ends the round and the next starts from the first device. */
  async sweepOnce(): Promise<number> {
    const devices = await presenceCandidates(this.db, this.afterId, PRESENCE_BATCH);
    this.afterId = devices.length === PRESENCE_BATCH ? devices[devices.length - 1].id : 0;
    if (devices.length === 0) return 0;
    const views = await this.presence.lookup(devices.map((d) => d.id));
    const now = new Date();
    const decisions = devices.flatMap((device) => {
      const view = views.get(device.id);
      const decision = decidePresence(
        device,
        view?.online ?? false,
        now,
        this.config.webhooks.offlineGraceMs,
      );
      return decision === undefined ? [] : [{ device, view, decision }];
    });
    if (decisions.length === 0) return devices.length;
    const announced = await this.db.transaction(async (tx) => {
      const applied = await applyPresenceTransitions(
        tx,
        decisions.map((d) => d.decision.transition),
      );
      const events: WebhookEvent[] = [];
      for (const { device, view, decision } of decisions) {
        if (decision.announce === undefined || !applied.has(device.id)) continue;
        const lastSeen =
          view?.lastSeen !== undefined
            ? new Date(view.lastSeen)
            : (device.last_seen_at ?? decision.announce.at);
        events.push(
          deviceEvent(
            decision.announce.online,
            { id: device.id, title: device.title, lastSeen },
            device.user_id,
            decision.announce.at,
          ),
        );
      }
      await recordWebhookEvents(tx, events);
      return events.length;
    });
    if (announced > 0) this.logger.log({ count: announced }, 'device presence announced');
    return devices.length;
  }
}
