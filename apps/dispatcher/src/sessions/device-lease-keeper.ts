import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { DEVICE_LEASE_RENEW_MS, DEVICE_LEASE_TTL_MS, DeviceLeases } from '@smsfleet/queueing';

export interface LeaseHolder {
  deviceId: number;
  /** The session's token: the lease's owner name. */
  token: string;
}

export interface LeaseKeeperEvents {
  /** Another connection owns these devices' leases now. */
  lost(deviceIds: number[]): Promise<void>;
  /** No renewal confirmed for almost a lease's lifetime (Redis unreachable): every phone must go. */
  cutOff(): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Renews the leases of a node's sessions every DEVICE_LEASE_RENEW_MS, one round trip for all, and says
 * which were lost and when the node has been cut off from Redis for too long.
 */
export class DeviceLeaseKeeper {
  private readonly logger = new Logger(DeviceLeaseKeeper.name);
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private renewingSince = 0;
  private confirmedAt = Date.now();
  /**
   * This process's event-loop delay since the last confirmed renewal: with the renewal's age, it tells
   * a cut-off for a Redis that did not answer from one for a node that could not listen.
   */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly leases: DeviceLeases,
    private readonly holders: () => LeaseHolder[],
    private readonly events: LeaseKeeperEvents,
  ) {}

  start(): void {
    this.loopDelay.enable();
    this.timer = setInterval(() => void this.tick(), DEVICE_LEASE_RENEW_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.loopDelay.disable();
  }

  private async tick(): Promise<void> {
    const holders = this.holders();
    // One renewal at a time: a reply may be slow while the connection to Redis is failing.
    if (!this.renewing) {
      this.renewingSince = Date.now();
      this.renewing = this.leases
        .renew(holders.map((holder) => ({ deviceId: holder.deviceId, owner: holder.token })))
        .then(async (lost) => {
          this.confirmedAt = Date.now();
          this.loopDelay.reset();
          if (lost.length > 0) await this.events.lost(lost);
        })
        .catch((error: Error) => this.logger.warn({ err: error }, 'device leases not renewed'))
        .finally(() => {
          this.renewing = undefined;
          this.renewingSince = 0;
        });
    }
    await Promise.race([this.renewing, sleep(DEVICE_LEASE_RENEW_MS)]);
    // Let go before the last confirmed lease could have expired (the next check is a period away).
    if (holders.length > 0 && Date.now() - this.confirmedAt > DEVICE_LEASE_TTL_MS - DEVICE_LEASE_RENEW_MS) {
      this.logger.error(
        {
          sessions: holders.length,
          renewalOutstandingMs: this.renewingSince > 0 ? Date.now() - this.renewingSince : 0,
          eventLoopDelayMaxMs: Math.round(this.loopDelay.max / 1e6),
          eventLoopDelayP99Ms: Math.round(this.loopDelay.percentile(99) / 1e6),
        },
        'device leases not renewed in time (Redis unreachable?); disconnecting this node’s phones',
      );
      this.events.cutOff();
    }
  }
}
