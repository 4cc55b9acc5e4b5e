import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { resealWebhookSecret, webhookSecretsPage } from '@smsfleet/persistence';
import { TokenVault } from './token-vault';

/** What `webhooks:reseal` did. */
export interface WebhookResealReport {
  /** Subscriptions looked at. */
  webhooks: number;
  /** Stored secrets (current or previous) written again sealed with today's key. */
  sealed: number;
  /** Subscriptions whose secret no configured key opens (sealed with a lost TOKEN_SECRET): rotate them. */
  unopened: number[];
}

const PAGE = 500;

/** A stored webhook secret opened: the secret, and whether the row should be written again sealed. */
export interface OpenedWebhookSecret {
  secret: string;
  /** Stored in clear (from before sealing) or sealed with an earlier TOKEN_SECRET: seal it again. */
  reseal: boolean;
}

/**
 * Webhook signing secrets (and the rotated-out one kept for its grace period) are stored sealed by the
 * TokenVault — AES-256-GCM under the key derived from TOKEN_SECRET, bound to the account (ADR 0903, and
 * its follow-up ADR 0905): a database dump alone cannot forge our signatures. Rows from before sealing
 * hold the secret in clear; they are read as they are and sealed on use (the delivering worker, a
 * rotation) or all at once by `cli webhooks:reseal`.
 */
@Injectable()
export class WebhookSecrets {
  constructor(
    private readonly vault: TokenVault,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** The secret as stored for a subscription of `userId`. */
  seal(secret: string, userId: number): string {
    return this.vault.seal(secret, userId, 'webhook-secret');
  }

  /** The secret a stored value holds, or undefined when it is sealed and no configured key opens it. */
  open(stored: string, userId: number): OpenedWebhookSecret | undefined {
    if (!isSealedWebhookSecret(stored)) return { secret: stored, reseal: true };
    const opened = this.vault.unseal(stored, userId, 'webhook-secret');
    return opened && { secret: opened.token, reseal: !opened.withCurrentKey };
  }

  /**
   * Seals every stored secret still in clear or sealed with an earlier TOKEN_SECRET (`cli webhooks:reseal`):
   * after it, TOKEN_SECRET_PREVIOUS can go. Each write holds only if the row still has what was read, so
   * it runs safely beside the API and the workers.
   */
  async resealAll(): Promise<WebhookResealReport> {
    const report: WebhookResealReport = { webhooks: 0, sealed: 0, unopened: [] };
    for (let after = 0; ;) {
      const page = await webhookSecretsPage(this.db, after, PAGE);
      if (page.length === 0) return report;
      for (const row of page) {
        report.webhooks++;
        for (const column of ['secret', 'previous_secret'] as const) {
          const stored = row[column];
          if (stored === null) continue;
          const opened = this.open(stored, row.user_id);
          if (opened === undefined) {
            if (column === 'secret') report.unopened.push(row.id);
            continue;
          }
          if (!opened.reseal) continue;
          const sealed = this.seal(opened.secret, row.user_id);
          if (await resealWebhookSecret(this.db, row.id, column, stored, sealed)) report.sealed++;
        }
      }
      after = page[page.length - 1].id;
    }
  }
}

/**
 * Sealed values are `v1:<key id>:<iv>:<data>:<tag>`; a clear secret is `whsec_` and base64url, which holds
 * no colon, so the two never meet.
 */
export function isSealedWebhookSecret(stored: string): boolean {
  return stored.startsWith('v1:') && stored.split(':').length === 5;
}
