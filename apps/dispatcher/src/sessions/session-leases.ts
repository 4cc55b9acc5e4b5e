import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DeviceLeases } from '@smsfleet/queueing';
import { DeviceLeaseKeeper, LeaseHolder, LeaseKeeperEvents } from './device-lease-keeper';

/** A phone whose lease cannot be taken this fast is asked to reconnect (perhaps to a healthier node). */
const LEASE_TAKE_TIMEOUT_MS = 2_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The leases of this node's sessions (one consumer per device across nodes, ADR 0402): taken when a
 * session opens (the newer connection wins), renewed together, released when it ends.
 */
@Injectable()
export class SessionLeases implements OnApplicationShutdown {
  private keeper?: DeviceLeaseKeeper;

  constructor(private readonly leases: DeviceLeases) {}

  /** Opens the lease connection and renews the leases of `holders` from now on. */
  start(holders: () => LeaseHolder[], events: LeaseKeeperEvents): void {
    this.leases.open();
    this.keeper = new DeviceLeaseKeeper(this.leases, holders, events);
    this.keeper.start();
  }

  /**
   * Whether a phone can be taken on now. A restarted node whose Redis connection is still coming up must
   * refuse phones ("unavailable": retry) rather than accept them and then end the session for want of a
   * lease, which a phone following the protocol reads as "a newer session took over" and does not
   * reconnect after.
   */
  get ready(): boolean {
    return this.leases.ready;
  }

  /** Takes the device's lease for `owner`, or fails within LEASE_TAKE_TIMEOUT_MS. */
  async take(deviceId: number, owner: string): Promise<void> {
    await Promise.race([
      this.leases.take(deviceId, owner),
      sleep(LEASE_TAKE_TIMEOUT_MS).then(() => {
        throw new Error(`no answer from Redis within ${LEASE_TAKE_TIMEOUT_MS} ms`);
      }),
    ]);
  }

  /** The key decides, not an announcement: an older announcement may arrive after our own take. */
  async heldBy(deviceId: number, owner: string): Promise<boolean> {
    const current = await this.leases.owner(deviceId).catch(() => owner);
    return current === owner;
  }

  async release(deviceId: number, owner: string): Promise<void> {
    await this.leases.release(deviceId, owner);
  }

  onApplicationShutdown(): void {
    this.keeper?.stop();
  }
}
