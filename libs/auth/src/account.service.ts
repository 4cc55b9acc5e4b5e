import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { UserEntity } from '@smsfleet/persistence';
import { PasswordHasher } from './password-hasher';
import { PhoneRegistrationTokens, PhoneTokensResealReport } from './phone-registration-tokens';
import { sha256Hex } from './secret-hash';
import { TokenVault } from './token-vault';
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

interface ActiveToken {
  id: number;
  version: number;
  token_hash: string;
  sealed: string | null;
}

/** What `token:reseal` did: tokens sealed from an older secret, rotated because none opened them. */
export interface ResealReport {
  alreadySealed: number;
  resealed: number;
  rotated: number;
  /** The same for the accounts' phone registration tokens, sealed with the same key. */
  phoneRegistrationTokens: PhoneTokensResealReport;
  databaseSecretDeleted: boolean;
}
/** Accounts, their passwords and their API token. */
@Injectable()
export class AccountService {
  private readonly logger = new Logger(AccountService.name);
  private readonly tokenCache: TtlCache<string, Account>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly vault: TokenVault,
    private readonly phoneTokens: PhoneRegistrationTokens,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokenCache = new TtlCache<string, Account>(config.tokenCacheMs, 10_000);
  }

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
      await this.issueToken(tx, inserted[0].id);
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

  /** Sets a new password and rotates the token (whoever knew the old password may know the token); answers it. */
  async setPassword(userId: number, password: string): Promise<string> {
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new Error(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const passwordHash = await this.hasher.hash(password);
    return this.db.transaction(async (tx) => {
      await tx.query(`UPDATE users SET password_hash = $2 WHERE id = $1`, [userId, passwordHash]);
      // Whoever signed in to the dashboard with the old password is signed out too.
      await tx.query(`DELETE FROM dashboard_sessions WHERE user_id = $1`, [userId]);
      return this.replaceToken(tx, userId);
    });
  }

  /**
   * The account's current token: the same on every call until it is rotated. A token from before sealing
   * is sealed now; one that no configured secret opens any more (its secret was dropped) is replaced.
   */
  async currentToken(userId: number): Promise<string> {
    const active = await this.activeToken(this.db.manager, userId);
    if (!active) {
      const issued = await this.db.transaction((tx) => this.issueToken(tx, userId));
      return issued ?? this.currentToken(userId);
    }
    const token = this.open(userId, active);
    if (token === undefined) {
      this.logger.warn({ userId }, 'API token opened by no configured secret: a new one is issued');
      return this.rotateToken(userId);
    }
    if (token.reseal) await this.storeSealed(userId, active.id, token.value);
    return token.value;
  }

  /** Revokes the current token and issues the next one. */
  async rotateToken(userId: number): Promise<string> {
    return this.db.transaction((tx) => this.replaceToken(tx, userId));
  }

  /**
   * Seals every current token — API and phone registration tokens — with the current TOKEN_SECRET
   * (opening it with an earlier one, or deriving a token from before sealing), replaces those no
   * configured secret opens, then deletes the database secret of older installations, which no token
   * needs any more.
   */
  async resealAll(): Promise<ResealReport> {
    const report: ResealReport = {
      alreadySealed: 0,
      resealed: 0,
      rotated: 0,
      phoneRegistrationTokens: { alreadySealed: 0, resealed: 0, rotated: 0 },
      databaseSecretDeleted: false,
    };
    const active: Array<ActiveToken & { user_id: number }> = await this.db.query(
      `SELECT id, user_id, version, token_hash, sealed FROM api_tokens WHERE revoked_at IS NULL ORDER BY id`,
    );
    for (const row of active) {
      const token = this.open(row.user_id, row);
      if (token === undefined) {
        await this.rotateToken(row.user_id);
        report.rotated++;
      } else if (token.reseal) {
        await this.storeSealed(row.user_id, row.id, token.value);
        report.resealed++;
      } else report.alreadySealed++;
    }
    report.phoneRegistrationTokens = await this.phoneTokens.resealAll();
    await this.vault.deleteDatabaseSecret();
    report.databaseSecretDeleted = true;
    return report;
  }

  /**
   * The account of a current token. Found tokens are remembered for API_TOKEN_CACHE_MS (one query less per
   * request); a rotation elsewhere reaches this process by the token-revoked signal (forgetAccount), and
   * without Redis within that time.
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

  /** Another process rotated the account's token: its cached tokens are looked up again. */
  forgetAccount(userId: number): void {
    this.tokenCache.deleteWhere((account) => account.id === userId);
  }

  private open(userId: number, row: ActiveToken): { value: string; reseal: boolean } | undefined {
    if (row.sealed !== null) {
      const opened = this.vault.unseal(row.sealed, userId);
      if (opened && sha256Hex(opened.token) === row.token_hash)
        return { value: opened.token, reseal: !opened.withCurrentKey };
      return undefined;
    }
    const legacy = this.vault.legacyToken(userId, row.version, row.token_hash);
    return legacy === undefined ? undefined : { value: legacy, reseal: true };
  }

  private async activeToken(db: EntityManager, userId: number): Promise<ActiveToken | undefined> {
    const rows: ActiveToken[] = await db.query(
      `SELECT id, version, token_hash, sealed FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
    return rows[0];
  }

  private async storeSealed(userId: number, tokenId: number, token: string): Promise<void> {
    await this.db.query(`UPDATE api_tokens SET sealed = $2 WHERE id = $1`, [
      tokenId,
      this.vault.seal(token, userId),
    ]);
  }

  private async replaceToken(tx: EntityManager, userId: number): Promise<string> {
    await tx.query(`UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [
      userId,
    ]);
    const token = await this.issueToken(tx, userId);
    this.tokenCache.clear();
    if (token === undefined) throw new Error(`a concurrent rotation of account ${userId}'s token won; retry`);
    return token;
  }

  /** A new random token, unless the account already has a current one (a concurrent call issued it). */
  private async issueToken(tx: EntityManager, userId: number): Promise<string | undefined> {
    const token = this.vault.newToken();
    const inserted: unknown[] = await tx.query(
      `INSERT INTO api_tokens (user_id, version, token_hash, sealed)
       SELECT $1, COALESCE(max(version), 0) + 1, $2, $3 FROM api_tokens WHERE user_id = $1
       ON CONFLICT (user_id) WHERE revoked_at IS NULL DO NOTHING
       RETURNING id`,
      [userId, sha256Hex(token), this.vault.seal(token, userId)],
    );
    return inserted.length > 0 ? token : undefined;
  }
}
