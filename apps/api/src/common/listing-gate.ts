import { Inject, Injectable } from '@nestjs/common';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { ApiError } from './api-error';

/**
 * Listings read many rows and hold pooled connections while they do: one account may run only a few at
 * once (API_LISTINGS_PER_ACCOUNT, else 429), and all accounts together only so many
 * (API_LISTINGS_IN_FLIGHT, else 503), so that the pool stays free for everyone's other requests. Counted
 * per API process, like the pool it protects.
 */
@Injectable()
export class ListingGate {
  private readonly perAccount = new Map<number, number>();
  private inFlight = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async run<T>(account: Account, listing: () => Promise<T>): Promise<T> {
    const { listingsPerAccount, listingsInFlight } = this.config.api;
    const running = this.perAccount.get(account.id) ?? 0;
    if (running >= listingsPerAccount)
      throw new ApiError(
        'rate_limited',
        `at most ${listingsPerAccount} listings of one account at a time; retry when one has answered`,
      );
    if (this.inFlight >= listingsInFlight)
      throw new ApiError('unavailable', 'too many listings in progress; retry in a moment');
    this.perAccount.set(account.id, running + 1);
    this.inFlight++;
    try {
      return await listing();
    } finally {
      this.inFlight--;
      const left = (this.perAccount.get(account.id) ?? 1) - 1;
      if (left === 0) this.perAccount.delete(account.id);
      else this.perAccount.set(account.id, left);
    }
  }
}
