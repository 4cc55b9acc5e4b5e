import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sha256Hex } from './secret-hash';
import { TokenDeriver } from './token-deriver';

const PURPOSE = 'phone-registration';

/**
 * Each account's registration token: what a phone running the SMSGate app presents (its "Private
 * Token") to register as a device of the account. Derived like the API token, so it can be shown again;
 * the database keeps its SHA-256 only. Rotating it stops new registrations with the old one; phones
 * already registered keep their own device tokens.
 */
@Injectable()
export class PhoneRegistrationTokens {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly tokens: TokenDeriver,
  ) {}

  /** The account's current registration token (issued on first use). */
  async current(userId: number): Promise<string> {
    const rows: Array<{ version: number }> = await this.db.query(
      `SELECT version FROM phone_registration_tokens WHERE user_id = $1`,
      [userId],
    );
    if (rows[0]) return this.tokens.deriveFor(PURPOSE, userId, rows[0].version);
    return this.store(userId, 1, 'DO NOTHING');
  }

  /** Replaces the account's registration token with a new one. */
  async rotate(userId: number): Promise<string> {
    const rows: Array<{ version: number }> = await this.db.query(
      `SELECT version FROM phone_registration_tokens WHERE user_id = $1`,
      [userId],
    );
    return this.store(userId, (rows[0]?.version ?? 0) + 1, 'UPDATE');
  }

  private async store(userId: number, version: number, onConflict: 'DO NOTHING' | 'UPDATE'): Promise<string> {
    const token = this.tokens.deriveFor(PURPOSE, userId, version);
    const rows: Array<{ version: number }> = await this.db.query(
      `INSERT INTO phone_registration_tokens (user_id, version, token_hash) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) ${
         onConflict === 'UPDATE'
           ? 'DO UPDATE SET version = EXCLUDED.version, token_hash = EXCLUDED.token_hash, created_at = now()'
           : 'DO UPDATE SET version = phone_registration_tokens.version'
       }
       RETURNING version`,
      [userId, version, sha256Hex(token)],
    );
    // A concurrent first use issued it already: answer the stored one.
    return rows[0].version === version ? token : this.tokens.deriveFor(PURPOSE, userId, rows[0].version);
  }
}
