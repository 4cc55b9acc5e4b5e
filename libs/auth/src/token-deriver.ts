import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';

/**
 * API tokens are derived, not stored: HMAC(server secret, account, rotation counter). `gettoken` can
 * then hand out the same token on every call while the database keeps only its SHA-256. The secret is
 * TOKEN_SECRET when set, else the random one this installation's first migration generated.
 */
@Injectable()
export class TokenDeriver implements OnModuleInit {
  private secret?: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.tokenSecret) {
      this.secret = this.config.tokenSecret;
      return;
    }
    const rows: Array<{ value: string }> = await this.db.query(
      `SELECT value FROM instance_secrets WHERE name = 'api_token'`,
    );
    if (!rows[0])
      throw new Error('no API token secret: run the migrations (npm run migration:run) or set TOKEN_SECRET');
    this.secret = rows[0].value;
  }

  derive(userId: number, version: number): string {
    return this.deriveFor('api-token', userId, version);
  }

  /** A secret of another purpose (e.g. `phone-registration`), derived the same way and as stable. */
  deriveFor(purpose: string, userId: number, version: number): string {
    if (!this.secret) throw new Error('TokenDeriver used before initialisation');
    return createHmac('sha256', this.secret).update(`${purpose}:${userId}:${version}`).digest('hex');
  }
}
