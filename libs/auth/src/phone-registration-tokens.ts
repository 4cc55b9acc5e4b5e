import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sha256Hex } from './secret-hash';
import { TokenVault } from './token-vault';

const PURPOSE = 'phone-registration';

interface StoredToken {
  user_id: number;
  version: number;
  token_hash: string;
  sealed: string | null;
}

/** What `token:reseal` did to the phone registration tokens (as to the API tokens). */
export interface PhoneTokensResealReport {
  alreadySealed: number;
  resealed: number;
  rotated: number;
}

/**
 * Each account's registration token: what a phone running the SMSGate app presents (its "Private
 * Token") to register as a device of the account. Random and kept like the API token (ADR 0903): its
 * SHA-256, which the dispatcher looks registrations up by, and the token sealed with TOKEN_SECRET, so the
 * CLI can show it again; nothing in the database computes it. Rotating it stops new registrations with
 * the old one; phones already registered keep their own device tokens.
 */
@Injectable()
export class PhoneRegistrationTokens {
  private readonly logger = new Logger(PhoneRegistrationTokens.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly vault: TokenVault,
  ) {}

  /**
   * The account's current registration token (issued on first use). One from before sealing is sealed
   * now; one that no configured secret opens any more is replaced.
   */
  async current(userId: number): Promise<string> {
    const stored = await this.stored(userId);
    if (!stored) {
      const token = this.vault.newToken();
      const rows: unknown[] = await this.db.query(
        `INSERT INTO phone_registration_tokens (user_id, version, token_hash, sealed) VALUES ($1, 1, $2, $3)
         ON CONFLICT (user_id) DO NOTHING RETURNING user_id`,
        [userId, sha256Hex(token), this.vault.seal(token, userId, PURPOSE)],
      );
      // A concurrent first use issued it already: answer the stored one.
      return rows.length > 0 ? token : this.current(userId);
    }
    const opened = this.open(stored);
    if (opened === undefined) {
      this.logger.warn(
        { userId },
        'phone registration token opened by no configured secret: a new one is issued',
      );
      return this.rotate(userId);
    }
    if (opened.reseal) await this.storeSealed(stored, opened.value);
    return opened.value;
  }

  /** Replaces the account's registration token with a new one. */
  async rotate(userId: number): Promise<string> {
    const token = this.vault.newToken();
    await this.db.query(
      `INSERT INTO phone_registration_tokens (user_id, version, token_hash, sealed) VALUES ($1, 1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET version = phone_registration_tokens.version + 1,
         token_hash = EXCLUDED.token_hash, sealed = EXCLUDED.sealed, created_at = now()`,
      [userId, sha256Hex(token), this.vault.seal(token, userId, PURPOSE)],
    );
    return token;
  }

  /** Seals every registration token with the current key; replaces those no configured secret opens. */
  async resealAll(): Promise<PhoneTokensResealReport> {
    const report: PhoneTokensResealReport = { alreadySealed: 0, resealed: 0, rotated: 0 };
    const all: StoredToken[] = await this.db.query(
      `SELECT user_id, version, token_hash, sealed FROM phone_registration_tokens ORDER BY user_id`,
    );
    for (const stored of all) {
      const opened = this.open(stored);
      if (opened === undefined) {
        await this.rotate(stored.user_id);
        report.rotated++;
      } else if (opened.reseal) {
        await this.storeSealed(stored, opened.value);
        report.resealed++;
      } else report.alreadySealed++;
    }
    return report;
  }

  private async stored(userId: number): Promise<StoredToken | undefined> {
    const rows: StoredToken[] = await this.db.query(
      `SELECT user_id, version, token_hash, sealed FROM phone_registration_tokens WHERE user_id = $1`,
      [userId],
    );
    return rows[0];
  }

  private open(stored: StoredToken): { value: string; reseal: boolean } | undefined {
    if (stored.sealed !== null) {
      const opened = this.vault.unseal(stored.sealed, stored.user_id, PURPOSE);
      if (opened && sha256Hex(opened.token) === stored.token_hash)
        return { value: opened.token, reseal: !opened.withCurrentKey };
      return undefined;
    }
    const legacy = this.vault.legacyToken(stored.user_id, stored.version, stored.token_hash, PURPOSE);
    return legacy === undefined ? undefined : { value: legacy, reseal: true };
  }

  /** Seals the token again, unless it was rotated meanwhile (its hash changed). */
  private async storeSealed(stored: StoredToken, token: string): Promise<void> {
    await this.db.query(
      `UPDATE phone_registration_tokens SET sealed = $3 WHERE user_id = $1 AND token_hash = $2`,
      [stored.user_id, stored.token_hash, this.vault.seal(token, stored.user_id, PURPOSE)],
    );
  }
}
