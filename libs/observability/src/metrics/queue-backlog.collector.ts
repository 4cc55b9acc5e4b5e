import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { devicePresenceKey, DeviceQueue } from '@smsfleet/contracts';
import { RedisConnections } from '@smsfleet/queueing';
import { oldestDueNewAge } from '@smsfleet/persistence';
import { Metrics } from './metrics';

const TOP_DEVICES = 10;

interface DeviceBacklog {
  deviceId: number;
  userId: number;
  waiting: number;
  delayed: number;
  active: number;
  online: boolean;
}

/**
 * Reads the backlog of every device queue at scrape time (one pipelined round trip for all devices) and
 * the age of the oldest due message from PostgreSQL. Registered by one app (the scheduler): each of its
 * replicas reports the same whole-system figures, so dashboards take max(), not sum().
 */
@Injectable()
export class QueueBacklogCollector implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly redis: RedisConnections,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape(() => this.refresh());
  }

  async refresh(): Promise<void> {
    const [backlogs, oldestAge] = await Promise.all([this.deviceBacklogs(), oldestDueNewAge(this.db)]);
    const sum = (pick: (b: DeviceBacklog) => number) => backlogs.reduce((total, b) => total + pick(b), 0);
    this.metrics.queueJobs.set(
      { state: 'waiting' },
      sum((b) => b.waiting),
    );
    this.metrics.queueJobs.set(
      { state: 'delayed' },
      sum((b) => b.delayed),
    );
    this.metrics.queueJobs.set(
      { state: 'active' },
      sum((b) => b.active),
    );
    this.metrics.oldestWaitingAge.set(oldestAge);

    // Ten series at most: the previous top ten are dropped, not left stale.
    this.metrics.queueTopDevices.reset();
    const total = (b: DeviceBacklog) => b.waiting + b.delayed + b.active;
    for (const backlog of backlogs
      .filter((b) => total(b) > 0)
      .sort((a, b) => total(b) - total(a))
      .slice(0, TOP_DEVICES))
      this.metrics.queueTopDevices.set({ device_id: String(backlog.deviceId) }, total(backlog));

    const waitingOffline = backlogs.filter((b) => b.waiting > 0 && !b.online);
    const accountsOnline = new Set(backlogs.filter((b) => b.online).map((b) => b.userId));
    const accountsStuck = new Set(
      waitingOffline.map((b) => b.userId).filter((id) => !accountsOnline.has(id)),
    );
    this.metrics.devicesWaitingOffline.set(waitingOffline.length);
    this.metrics.accountsWaitingWithoutPhone.set(accountsStuck.size);
  }

  private async deviceBacklogs(): Promise<DeviceBacklog[]> {
    // While disconnected, the pipeline would wait in the offline queue: keep the last values instead.
    if (this.redis.shared.status !== 'ready') throw new Error(`redis is ${this.redis.shared.status}`);
    const devices: Array<{ id: number; user_id: number }> = await this.db.query(
      'SELECT id, user_id FROM devices WHERE removed_at IS NULL',
    );
    if (devices.length === 0) return [];
    const prefix = this.config.redisPrefix;
    const pipeline = this.redis.shared.pipeline();
    for (const { id } of devices) {
      const key = (type: string) => `${prefix}:${DeviceQueue.name(id)}:${type}`;
      // Every job carries a priority, so due jobs sit in "prioritized"; "wait" holds any without one.
      pipeline.llen(key('wait')).zcard(key('prioritized')).zcard(key('delayed')).llen(key('active'));
      pipeline.exists(devicePresenceKey(prefix, id));
    }
    const replies = (await pipeline.exec()) ?? [];
    const value = (index: number): number => {
      const [error, result] = replies[index] ?? [new Error('no reply'), 0];
      if (error) throw error;
      return Number(result);
    };
    return devices.map(({ id, user_id }, n) => {
      const at = n * 5;
      return {
        deviceId: id,
        userId: user_id,
        waiting: value(at) + value(at + 1),
        delayed: value(at + 2),
        active: value(at + 3),
        online: value(at + 4) > 0,
      };
    });
  }
}
