import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, assertTokenSecretConfigured, ConfigError } from '@smsfleet/config';
import { developmentTokenSecret } from './development-token-secret';

interface SealingKey {
  /** Names the key in a sealed token, so the right one is tried first. */
  id: string;
  key: Buffer;
}

const SEAL_VERSION = 'v1';

/** What a token is for; bound into its seal, so a sealed token copied to another kind of row does not open. */
export type TokenPurpose = 'api-token' | 'phone-registration' | 'webhook-secret';

/**
 * API tokens, and the accounts' phone registration tokens, are random (256 bits) and the database keeps
 * two things of each: its SHA-256 (to look it up) and the token sealed with AES-256-GCM under a key
 * derived from TOKEN_SECRET, so that gettoken (or `cli phone:token`) can answer the same token again. TOKEN_SECRET never enters the database: a dump alone yields no token, and the
 * secret alone yields none either (ADR 0903). Earlier secrets (TOKEN_SECRET_PREVIOUS, and the database
 * secret of installations from before sealing) still open what they sealed or derived.
 */
@Injectable()
export class TokenVault implements OnModuleInit {
  private readonly logger = new Logger(TokenVault.name);
  private current?: SealingKey;
  private previous: SealingKey[] = [];
  /** Secrets tokens were derived from before sealing (HMAC of account and version): TOKEN_SECRET's and the database's. */
  private legacySecrets: string[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    assertTokenSecretConfigured(this.config);
    let secret = this.config.tokenSecret;
    // Production without the secret gets this far only where nothing needs it (a status app not
    // delivering webhooks): no key then, and any use says why.
    if (secret === undefined && this.config.nodeEnv === 'production') return;
    if (secret === undefined) {
      secret = developmentTokenSecret();
      this.logger.warn('TOKEN_SECRET not set: API tokens are sealed with a development secret in .smsfleet/');
    }
    this.current = sealingKey(secret);
    this.previous = this.config.tokenSecretsPrevious.map(sealingKey);
    const stored: Array<{ value: string }> = await this.db.query(
      `SELECT value FROM instance_secrets WHERE name = 'api_token'`,
    );
    this.legacySecrets = [
      ...(this.config.tokenSecret === undefined ? [] : [this.config.tokenSecret]),
      ...this.config.tokenSecretsPrevious,
      ...stored.map((row) => row.value),
    ];
    if (stored.length > 0)
      this.logger.warn(
        'the old API token secret is still in the database: run `cli token:reseal` to seal every token and delete it',
      );
  }

  /** A new random token. */
  newToken(): string {
    return randomBytes(32).toString('hex');
  }

  /** The token sealed for `userId` with the current key (bound to the account and purpose: it opens for no other). */
  seal(token: string, userId: number, purpose: TokenPurpose = 'api-token'): string {
    const { id, key } = this.currentKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`${purpose}:${userId}`));
    const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return [SEAL_VERSION, id, b64(iv), b64(sealed), b64(cipher.getAuthTag())].join(':');
  }

  /** The token inside `sealed`, or undefined when no configured key opens it. */
  unseal(
    sealed: string,
    userId: number,
    purpose: TokenPurpose = 'api-token',
  ): { token: string; withCurrentKey: boolean } | undefined {
    const [version, id, iv, data, tag] = sealed.split(':');
    if (version !== SEAL_VERSION || tag === undefined) return undefined;
    const keys = [this.currentKey(), ...this.previous].sort(
      (a, b) => Number(b.id === id) - Number(a.id === id),
    );
    for (const candidate of keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', candidate.key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(`${purpose}:${userId}`));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const token = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
        return { token: token.toString('utf8'), withCurrentKey: candidate === this.current };
      } catch {
        // not this key
      }
    }
    return undefined;
  }

  /** A token issued before sealing, re-derived from the older secrets: the one whose hash matches. */
  legacyToken(
    userId: number,
    version: number,
    tokenHash: string,
    purpose: TokenPurpose = 'api-token',
  ): string | undefined {
    for (const secret of this.legacySecrets) {
      const token = createHmac('sha256', secret).update(`${purpose}:${userId}:${version}`).digest('hex');
      if (createHash('sha256').update(token).digest('hex') === tokenHash) return token;
    }
    return undefined;
  }

  /** Deletes the secret tokens were derived from before sealing (once every token, of every purpose, is sealed). */
  async deleteDatabaseSecret(): Promise<void> {
    await this.db.query(`DELETE FROM instance_secrets WHERE name = 'api_token'`);
  }

  private currentKey(): SealingKey {
    if (!this.current)
      throw this.config.nodeEnv === 'production'
        ? new ConfigError('TOKEN_SECRET', 'is required to seal or open tokens and webhook secrets')
        : new Error('TokenVault used before initialisation');
    return this.current;
  }
}

function sealingKey(secret: string): SealingKey {
  const key = Buffer.from(hkdfSync('sha256', secret, 'smsfleet', 'api-token-seal-v1', 32));
  const id = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return { id, key };
}

function b64(data: Buffer): string {
  return data.toString('base64url');
}
