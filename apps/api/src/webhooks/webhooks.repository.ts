import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface WebhookRow {
  id: number;
  url: string;
  description: string;
  events: string[];
  device_ids: number[] | null;
  batch_size: number;
  paused: boolean;
  disabled_at: Date | null;
  disabled_reason: string | null;
  failing_since: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  occurred_at: Date;
  status: 'pending' | 'failed' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: Date;
  first_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  delivered_at: Date | null;
  created_at: Date;
}

export interface NewWebhook {
  url: string;
  description: string;
  events: string[];
  deviceIds: number[] | null;
  batchSize: number;
  /** Sealed (WebhookSecrets): never the clear secret. */
  secret: string;
  paused: boolean;
}

export interface WebhookChange {
  url?: string;
  description?: string;
  events?: string[];
  /** null: every device. */
  deviceIds?: number[] | null;
  batchSize?: number;
  paused?: boolean;
}

const COLUMNS = `id, url, description, events, device_ids, batch_size, paused, disabled_at, disabled_reason, failing_since,
  CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END AS previous_secret_expires_at,
  created_at, updated_at`;

/**
 * Webhook subscriptions and their deliveries, always of one account: every statement is bounded by
 * `user_id`, so another account's id finds nothing.
 */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Locks the account's row (concurrent creations count one after the other) and counts its subscriptions. */
  async lockAndCount(tx: EntityManager, userId: number): Promise<number> {
    await tx.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [userId]);
    const [{ count }]: Array<{ count: number }> = await tx.query(
      `SELECT count(*)::int AS count FROM webhooks WHERE user_id = $1`,
      [userId],
    );
    return count;
  }

  /** The ids among `deviceIds` that are not the account's (removed devices included: nothing comes from them). */
  async foreignDevices(userId: number, deviceIds: readonly number[]): Promise<number[]> {
    if (deviceIds.length === 0) return [];
    const rows: Array<{ id: number }> = await this.db.query(
      `SELECT v.id FROM unnest($2::int[]) AS v(id)
        WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = v.id AND d.user_id = $1 AND d.removed_at IS NULL)
        ORDER BY v.id`,
      [userId, deviceIds],
    );
    return rows.map((row) => row.id);
  }

  async insert(tx: EntityManager, userId: number, hook: NewWebhook): Promise<WebhookRow> {
    const rows: WebhookRow[] = await tx.query(
      `INSERT INTO webhooks (user_id, url, description, events, device_ids, secret, paused, batch_size)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        userId,
        hook.url,
        hook.description,
        hook.events,
        hook.deviceIds,
        hook.secret,
        hook.paused,
        hook.batchSize,
      ],
    );
    return rows[0];
  }

  async list(userId: number): Promise<WebhookRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY id`, [userId]);
  }

  async find(userId: number, id: number): Promise<WebhookRow | undefined> {
    const rows: WebhookRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM webhooks WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows[0];
  }

  /**
   * Changes what is given. Resuming (`paused: false`) also lifts a disable: the owner says the receiver is
   * fixed, and the waiting deliveries go out, in order, from now on.
   */
  async update(userId: number, id: number, change: WebhookChange): Promise<WebhookRow | undefined> {
    const rows: WebhookRow[] = await this.db.query(
      `WITH updated AS (
         UPDATE webhooks
            SET url = COALESCE($3, url),
                description = COALESCE($4, description),
                events = COALESCE($5, events),
                device_ids = CASE WHEN $6::boolean THEN $7::int[] ELSE device_ids END,
                paused = COALESCE($8, paused),
                batch_size = COALESCE($9, batch_size),
                disabled_at = CASE WHEN $8 = false THEN NULL ELSE disabled_at END,
                disabled_reason = CASE WHEN $8 = false THEN NULL ELSE disabled_reason END,
                failing_since = CASE WHEN $8 = false THEN NULL ELSE failing_since END,
                updated_at = now()
          WHERE id = $1 AND user_id = $2
          RETURNING *)
       SELECT ${COLUMNS} FROM updated`,
      [
        id,
        userId,
        change.url ?? null,
        change.description ?? null,
        change.events ?? null,
        change.deviceIds !== undefined,
        change.deviceIds ?? null,
        change.paused ?? null,
        change.batchSize ?? null,
      ],
    );
    return rows[0];
  }

  /** Ends a subscription; its undelivered deliveries go with it. */
  async delete(userId: number, id: number): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `WITH gone AS (DELETE FROM webhooks WHERE id = $1 AND user_id = $2 RETURNING id) SELECT id FROM gone`,
      [id, userId],
    );
    return rows.length > 0;
  }

  /** The subscription's stored (sealed, or legacy clear) secret, its row locked until `tx` ends. */
  async lockSecret(tx: EntityManager, userId: number, id: number): Promise<string | undefined> {
    const rows: Array<{ secret: string }> = await tx.query(
      `SELECT secret FROM webhooks WHERE id = $1 AND user_id = $2 FOR UPDATE`,
      [id, userId],
    );
    return rows[0]?.secret;
  }

  /**
   * A new (sealed) secret; `previous` (the current one, sealed by the caller) keeps signing beside it
   * until `graceSeconds` from now. Null or no grace: no previous secret.
   */
  async rotateSecret(
    tx: EntityManager,
    userId: number,
    id: number,
    secret: string,
    previous: string | null,
    graceSeconds: number,
  ): Promise<WebhookRow | undefined> {
    const rows: WebhookRow[] = await tx.query(
      `WITH updated AS (
         UPDATE webhooks
            SET previous_secret = CASE WHEN $4 > 0 THEN $5::text END,
                previous_secret_expires_at = CASE WHEN $4 > 0 AND $5::text IS NOT NULL
                                                  THEN now() + make_interval(secs => $4) END,
                secret = $3, updated_at = now()
          WHERE id = $1 AND user_id = $2
          RETURNING *)
       SELECT ${COLUMNS} FROM updated`,
      [id, userId, secret, graceSeconds, previous],
    );
    return rows[0];
  }

  /** Deliveries of one subscription, newest first, before the delivery id `before` (keyset). */
  async deliveries(
    webhookId: number,
    before: number | undefined,
    status: string | undefined,
    limit: number,
  ): Promise<DeliveryRow[]> {
    return this.db.query(
      `SELECT d.id, d.event_id, e.type AS event_type, e.occurred_at, d.status, d.attempts, d.next_attempt_at,
              d.first_attempt_at, d.last_attempt_at, d.last_status_code, d.last_error, d.last_latency_ms,
              d.delivered_at, d.created_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.webhook_id = $1 AND ($2::bigint IS NULL OR d.id < $2) AND ($3::text IS NULL OR d.status = $3)
        ORDER BY d.id DESC
        LIMIT $4`,
      [webhookId, before ?? null, status ?? null, limit],
    );
  }

  /**
   * Sends deliveries again now, with their event ids: one (whatever its state), or every given-up or
   * failing one. Their retry window starts again. Answers how many.
   */
  async redeliver(webhookId: number, deliveryId: number | undefined): Promise<number> {
    const rows: unknown[] = await this.db.query(
      `WITH again AS (
         UPDATE webhook_deliveries
            SET status = CASE WHEN status = 'failed' THEN 'failed' ELSE 'pending' END,
                next_attempt_at = now(), first_attempt_at = NULL, delivered_at = NULL
          WHERE webhook_id = $1
            AND (CASE WHEN $2::bigint IS NULL THEN status IN ('failed', 'dead') ELSE id = $2 END)
            AND (lease_until IS NULL OR lease_until < now())
          RETURNING id)
       SELECT id FROM again`,
      [webhookId, deliveryId ?? null],
    );
    return rows.length;
  }
}
