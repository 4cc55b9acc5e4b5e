import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, PhoneLimitsConfig } from '@smsfleet/config';
import { Metrics } from '@smsfleet/observability';
import { CallGate } from '../session/call-gate';
import { AddressWindows } from './address-windows';
import { TokenBuckets } from './token-buckets';

/** A refusal for being over a limit: nothing was done; try again after `retryAfterMs`. */
export class RateLimited extends Error {
  constructor(readonly retryAfterMs: number) {
    super('rate_limited');
  }
}

/** The server is too busy checking handshakes to queue another: retry after a pause (not a verdict). */
export class HandshakesBusy extends Error {}

/** What a phone event costs: `status` by its reports (an array of up to 1,000), others one each. */
export type EventKind = 'reports' | 'events';

/** What was refused, as counted in `smsfleet_phone_limited_total`. */
export type Limited = 'handshake' | 'event' | 'goodbye' | 'request' | 'stream';

/** A burst is this many seconds of a rate: a phone that was quiet may send that much at once. */
const BURST_SECONDS = 10;
/** Handshakes waiting for a database check beyond this are told to come back (`unavailable`). */
const HANDSHAKES_WAITING = 1_000;
const MAX_PENALTIES = 100_000;

/**
 * The limits of what phones may send to this dispatcher (ADR 1602), per device and per address: handshakes
 * (socket.io) and app registrations, checked before any database work; each event of a connected phone;
 * each request of an SMSGate app. Rates are token buckets in this process (a device's session lives on one
 * node at a time); handshakes per address are also counted in Redis, across the nodes.
 */
@Injectable()
export class PhoneLimits {
  readonly limits: PhoneLimitsConfig;
  private readonly handshakesByAddress: TokenBuckets;
  private readonly failuresByAddress: TokenBuckets;
  private readonly failuresByDevice: TokenBuckets;
  private readonly byDevice: Record<EventKind | 'requests', TokenBuckets>;
  private readonly byAddress: Record<EventKind | 'requests', TokenBuckets>;
  private readonly penalties = new Map<string, number>();
  private readonly checks: CallGate;

  constructor(
    private readonly windows: AddressWindows,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const limits = (this.limits = config.dispatcher.phoneLimits);
    const perWindow = (count: number) => new TokenBuckets(count / limits.windowSeconds, count);
    const perSecond = (rate: number) => new TokenBuckets(rate, rate * BURST_SECONDS);
    this.handshakesByAddress = perWindow(limits.handshakesPerAddress);
    this.failuresByAddress = perWindow(limits.failedHandshakesPerAddress);
    this.failuresByDevice = perWindow(limits.failedHandshakesPerDevice);
    this.byDevice = {
      events: perSecond(limits.eventsPerSecond),
      reports: perSecond(limits.reportsPerSecond),
      requests: perSecond(limits.requestsPerSecond),
    };
    this.byAddress = {
      events: perSecond(limits.addressEventsPerSecond),
      reports: perSecond(limits.addressReportsPerSecond),
      requests: perSecond(limits.addressRequestsPerSecond),
    };
    this.checks = new CallGate(limits.handshakesInFlight);
  }

  /**
   * A handshake (or an app registration) from `address` naming `deviceId` (if it names a valid one), before
   * its secret is looked up: refused while the address is over its handshakes or failures, the device id
   * over its failures, or the device was sent away (`goodbye`) and its wait is not over.
   */
  async admitHandshake(address: string, deviceId?: number): Promise<void> {
    const device = deviceId === undefined ? undefined : String(deviceId);
    const now = Date.now();
    const penalty = device === undefined ? 0 : (this.penalties.get(device) ?? 0) - now;
    const wait = Math.max(
      penalty,
      this.failuresByAddress.waitFor(address, 1, now),
      device === undefined ? 0 : this.failuresByDevice.waitFor(device, 1, now),
    );
    if (wait > 0) throw new RateLimited(wait);
    const refill = this.handshakesByAddress.take(address, 1, now);
    if (refill > 0) throw new RateLimited(refill);
    const shared = await this.windows.handshake(address, device);
    if (shared.penaltyMs > 0) throw new RateLimited(shared.penaltyMs);
    if (
      shared.handshakes > this.limits.handshakesPerAddress ||
      shared.failed >= this.limits.failedHandshakesPerAddress
    )
      throw new RateLimited(Math.max(1_000, shared.windowLeftMs));
  }

  limited(what: Limited): void {
    this.metrics.phonesLimited.inc({ what });
  }

  /** Runs a handshake's database check when one of the node's slots is free; refused if too many wait. */
  check<T>(work: () => Promise<T>): Promise<T> {
    if (this.checks.queued >= HANDSHAKES_WAITING) return Promise.reject(new HandshakesBusy());
    return this.checks.run(work);
  }

  /** A handshake, registration or app request whose id, secret or token was wrong. */
  async handshakeFailed(address: string, deviceId?: number): Promise<void> {
    const now = Date.now();
    this.failuresByAddress.take(address, 1, now);
    if (deviceId !== undefined) this.failuresByDevice.take(String(deviceId), 1, now);
    await this.windows.failed(address);
  }

  /** 0 when the address has had no more failures than it may (checked in this process only), else the wait. */
  failuresWait(address: string): number {
    return this.failuresByAddress.waitFor(address);
  }

  /**
   * One event (or request) of a connected phone: 0 if admitted (its cost taken from the device's and the
   * address's buckets), else the ms until it would be.
   */
  admit(kind: EventKind | 'requests', deviceId: number, address: string, cost = 1): number {
    const now = Date.now();
    const device = String(deviceId);
    const wait = Math.max(
      this.byDevice[kind].waitFor(device, cost, now),
      this.byAddress[kind].waitFor(address, cost, now),
    );
    if (wait > 0) return wait;
    this.byDevice[kind].take(device, cost, now);
    this.byAddress[kind].take(address, cost, now);
    return 0;
  }

  /** As `admit` for an address alone: a request before its device is known. */
  admitAddress(kind: EventKind | 'requests', address: string, cost = 1): number {
    return this.byAddress[kind].take(address, cost);
  }

  /** As `admit` for a device alone: a request whose address was counted before its token was checked. */
  admitDevice(kind: EventKind | 'requests', deviceId: number, cost = 1): number {
    return this.byDevice[kind].take(String(deviceId), cost);
  }

  /** The device was sent away: its handshakes are refused, on every node, for `ms`. */
  async sendAway(deviceId: number, ms: number): Promise<void> {
    const now = Date.now();
    if (this.penalties.size >= MAX_PENALTIES)
      for (const [device, until] of this.penalties) if (until <= now) this.penalties.delete(device);
    if (this.penalties.size < MAX_PENALTIES) this.penalties.set(String(deviceId), now + ms);
    await this.windows.penalize(String(deviceId), ms);
  }
}
