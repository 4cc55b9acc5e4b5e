import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { QUOTA_PERIODS, QuotaPeriod, quotaWindows, SimQuota, SimSlot } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { countTakenInPeriod } from '@smsfleet/persistence';
import { SimQuotaCounters } from '@smsfleet/queueing';

/** A counter outlives its period by this much: a late release still finds it, and the API still shows it. */
const COUNTER_GRACE_MS = 3_600_000;

/** What a session gets for a message: the counters it took (give them back if it is not sent), or a wait. */
export type QuotaReservation = { keys: string[] } | { heldUntil: number };

/**
 * Per-SIM quotas for the sessions of this node (ADR 2201): before a message is emitted, one atomic Redis
 * script takes it from the counters of its slot's hour, day and month (in the phone's zone) if every one
 * is under its limit.
 * A counter that does not exist yet (a new period, or Redis lost it) is rebuilt from the messages
 * PostgreSQL says the phone took from that slot in the period.
 */
@Injectable()
export class SimQuotaGate {
  constructor(
    private readonly counters: SimQuotaCounters,
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: Metrics,
  ) {}

  async reserve(
    deviceId: number,
    slot: SimSlot,
    quota: SimQuota,
    zone: string,
    now = Date.now(),
  ): Promise<QuotaReservation> {
    const windows = quotaWindows(now, zone);
    const periods = QUOTA_PERIODS.filter((period) => quota[period] !== undefined);
    const keys = periods.map((period) => this.counters.key(deviceId, slot, windows[period].id));
    const limits = periods.map((period) => quota[period] as number);
    // Each missing counter is seeded once; one more round for the answer.
    for (let round = 0; round <= periods.length; round++) {
      const answer = await this.counters.reserve(keys, limits);
      if (answer.taken) {
        void this.observe(deviceId, slot, periods, keys, limits);
        return { keys };
      }
      if ('missing' in answer) {
        const window = windows[periods[answer.missing]];
        const used = await countTakenInPeriod(
          this.db,
          deviceId,
          slot,
          new Date(window.start),
          new Date(window.end),
        );
        await this.counters.seed(keys[answer.missing], used, window.end - now + COUNTER_GRACE_MS);
        continue;
      }
      // Waits until the longest of the full periods rolls over: a shorter one opening earlier would not let it go.
      const heldUntil = Math.max(...answer.full.map((index) => windows[periods[index]].end));
      void this.observe(deviceId, slot, periods, keys, limits);
      return { heldUntil };
    }
    throw new Error('quota counters kept disappearing while being rebuilt');
  }

  release(keys: string[]): Promise<void> {
    return this.counters.release(keys);
  }

  /** The gauges of this slot's counters and limits (set only for devices that have quotas). */
  private async observe(
    deviceId: number,
    slot: SimSlot,
    periods: QuotaPeriod[],
    keys: string[],
    limits: number[],
  ): Promise<void> {
    try {
      const used = await this.counters.read(keys);
      periods.forEach((period, index) => {
        const labels = { device: String(deviceId), slot: String(slot), period };
        this.metrics.simQuotaUsed.set(labels, used[index] ?? 0);
        this.metrics.simQuotaLimit.set(labels, limits[index]);
      });
    } catch {
      // Only the gauges lag; the counters themselves are right.
    }
  }
}
