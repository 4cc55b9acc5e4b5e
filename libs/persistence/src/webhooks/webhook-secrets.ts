import { Queryable, rowsOf } from '../queryable';

/** A subscription's stored secrets (sealed, or in clear on a row from before sealing). */
export interface StoredWebhookSecrets {
  id: number;
  user_id: number;
  secret: string;
  /** Kept while its grace period runs; an expired one is still listed (it is cleared by sealing). */
  previous_secret: string | null;
}

/** One page of subscriptions' stored secrets, by id after `afterId` (keyset), for `webhooks:reseal`. */
export async function webhookSecretsPage(
  db: Queryable,
  afterId: number,
  limit: number,
): Promise<StoredWebhookSecrets[]> {
  return (await db.query(
    `SELECT id, user_id, secret, previous_secret FROM webhooks WHERE id > $1 ORDER BY id LIMIT $2`,
    [afterId, limit],
  )) as StoredWebhookSecrets[];
}

/**
 * Replaces a stored secret with its sealed form, only where the row still holds what was read: a rotation
 * meanwhile wins, and two workers sealing the same row at once write one value each, harmlessly.
 * `column` is one of the two secret columns. Answers whether the row was changed.
 */
export async function resealWebhookSecret(
  db: Queryable,
  webhookId: number,
  column: 'secret' | 'previous_secret',
  stored: string,
  sealed: string,
): Promise<boolean> {
  const rows = rowsOf(
    (await db.query(
      `UPDATE webhooks SET ${column === 'secret' ? 'secret' : 'previous_secret'} = $3
        WHERE id = $1 AND ${column === 'secret' ? 'secret' : 'previous_secret'} = $2
        RETURNING id`,
      [webhookId, stored, sealed],
    )) as Array<{ id: number }> | [Array<{ id: number }>, number],
  );
  return rows.length > 0;
}
