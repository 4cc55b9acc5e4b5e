import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { ApiTokenEntity, UserEntity } from '@smsfleet/persistence';
import { PasswordHasher } from './password-hasher';
import { sha256Hex } from './secret-hash';
import { TokenDeriver } from './token-deriver';
import { TtlCache } from './ttl-cache';

export class AccountExistsError extends Error {
  constructor(email: string) {
    super(`an account with email ${email} already exists`);
  }
}

export interface Account {
  id: number;
  email: string;
  timezone: string;
}

const MIN_PASSWORD_LENGTH = 8;
const TOKEN_CACHE_MS = 5_000;

/** Accounts, their passwords and their API token. */
@Injectable()
export class AccountService {
  private readonly tokenCache = new TtlCache<string, Account>(TOKEN_CACHE_MS, 10_000);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenDeriver,
  ) {}

  static normaliseEmail(email: string): string {
    return email.trim().toLowerCase();
  }

  async createUser(email: string, password: string): Promise<Account> {
    const normalised = AccountService.normaliseEmail(email);
    if (!/^[^\s@]+@[^\s@]+$/.test(normalised) || normalised.length > 254) {
      throw new Error(`"${email}" is not an email address`);
    }
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new Error(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const passwordHash = await this.hasher.hash(password);
    return this.db.transaction(async (tx) => {
      const inserted: Array<{ id: number }> = await tx.query(
        `INSERT INTO users (email, password_hash) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id`,
        [normalised, passwordHash],
      );
      if (inserted.length === 0) throw new AccountExistsError(normalised);
      await this.issueToken(tx, inserted[0].id, 1);
      return { id: inserted[0].id, email: normalised, timezone: 'UTC' };
    });
  }

  async findByEmail(email: string): Promise<UserEntity | null> {
    return this.db.getRepository(UserEntity).findOneBy({ email: AccountService.normaliseEmail(email) });
  }

  /** The account for these credentials, or null; takes as long whether or not the email exists. */
  async verifyCredentials(email: string, password: string): Promise<Account | null> {
    const user = await this.findByEmail(email);
    const ok = await this.hasher.verify(user?.passwordHash, password);
    return ok && user ? { id: user.id, email: user.email, timezone: user.timezone } : null;
  }

  async setPassword(userId: number, password: string): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new Error(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    await this.db
      .getRepository(UserEntity)
      .update({ id: userId }, { passwordHash: await this.hasher.hash(password) });
  }

  /** The account's current token: the same on every call until it is rotated. */
  async currentToken(userId: number): Promise<string> {
    const active = await this.db.getRepository(ApiTokenEntity).findOneBy({ userId, revokedAt: IsNull() });
    if (active) return this.tokens.derive(userId, active.version);
    return this.db.transaction((tx) => this.issueToken(tx, userId, 1));
  }

  /** Revokes the current token and issues the next one. */
  async rotateToken(userId: number): Promise<string> {
    return this.db.transaction(async (tx) => {
      await tx.query(`UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [
        userId,
      ]);
      const last: Array<{ max: number | null }> = await tx.query(
        `SELECT max(version) AS max FROM api_tokens WHERE user_id = $1`,
        [userId],
      );
      const token = await this.issueToken(tx, userId, (last[0]?.max ?? 0) + 1);
      this.tokenCache.clear();
      return token;
    });
  }

  /**
   * The account of a current token. Found tokens are remembered for a few seconds (one query less per
   * request); a rotation elsewhere therefore takes up to TOKEN_CACHE_MS to reach this process.
   */
  async accountForToken(token: string): Promise<Account | null> {
    if (!/^[0-9a-f]{64}$/i.test(token)) return null;
    const hash = sha256Hex(token.toLowerCase());
    const cached = this.tokenCache.get(hash);
    if (cached) return cached;
    const rows: Account[] = await this.db.query(
      `SELECT u.id, u.email, u.timezone FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL`,
      [hash],
    );
    if (rows[0]) this.tokenCache.set(hash, rows[0]);
    return rows[0] ?? null;
  }

  private async issueToken(tx: EntityManager, userId: number, version: number): Promise<string> {
    const token = this.tokens.derive(userId, version);
    await tx.query(
      `INSERT INTO api_tokens (user_id, version, token_hash) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) WHERE revoked_at IS NULL DO NOTHING`,
      [userId, version, sha256Hex(token)],
    );
    return token;
  }
}
