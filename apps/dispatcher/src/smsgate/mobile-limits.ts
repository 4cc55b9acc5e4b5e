import { Injectable } from '@nestjs/common';
import { PhoneLimits, RateLimited } from '../limits/phone-limits';
import { MobileError } from './mobile-errors';

function tooMany(retryAfterMs: number): MobileError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1_000));
  return new MobileError('rate_limited', `too many requests; retry in ${seconds} s`, retryAfterMs);
}

/**
 * The SMSGate app's requests under the phone limits (ADR 1602): every `/mobile/v1` request counts for its
 * address before its token is looked at (an address past its failures is refused there, before the
 * database), then for its device once known; registrations count as handshakes (per address, across
 * nodes); an unknown token or a bad webhook signature counts as a failed one. Over a limit: 429
 * `rate_limited` with `Retry-After`. The app treats it as any failure (its workers back off from 10 s, its
 * event stream reconnects after 5–60 s), never as 401, which would make it register again.
 */
@Injectable()
export class MobileLimits {
  constructor(private readonly limits: PhoneLimits) {}

  /** Before the request's token or signature is checked. */
  beforeToken(address: string): void {
    const wait = Math.max(this.limits.admitAddress('requests', address), this.limits.failuresWait(address));
    if (wait > 0) this.refuse(wait);
  }

  /** A registration (`POST /device`): also a handshake of the address. */
  async registration(address: string): Promise<void> {
    this.beforeToken(address);
    try {
      await this.limits.admitHandshake(address);
    } catch (error) {
      if (error instanceof RateLimited) this.refuse(error.retryAfterMs);
      throw error;
    }
  }

  /** Once the request's device is known. */
  device(deviceId: number): void {
    const wait = this.limits.admitDevice('requests', deviceId);
    if (wait > 0) this.refuse(wait);
  }

  /** Counts `error` as a failed handshake of `address` if it was a wrong token or signature. */
  async failed(address: string, error: unknown): Promise<void> {
    if (error instanceof MobileError && (error.code === 'unauthorized' || error.code === 'forbidden'))
      await this.limits.handshakeFailed(address);
  }

  private refuse(retryAfterMs: number): never {
    this.limits.limited('request');
    throw tooMany(retryAfterMs);
  }
}
