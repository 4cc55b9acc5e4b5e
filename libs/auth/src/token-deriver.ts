import { Inject, Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';

/**
 * API tokens are derived, not stored: HMAC(server secret, account, rotation counter). `gettoken` can
 * then hand out the same token on every call while the database keeps only its SHA-256.
 */
@Injectable()
export class TokenDeriver {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  derive(userId: number, version: number): string {
    return createHmac('sha256', this.config.tokenSecret).update(`api-token:${userId}:${version}`).digest('hex');
  }
}
