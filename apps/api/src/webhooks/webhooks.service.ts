import { Inject, Injectable } from '@nestjs/common';
import { Account, WebhookSecrets } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { recordWebhookEventFor } from '@smsfleet/persistence';
import { AddressPolicy, generateWebhookSecret, testEvent } from '@smsfleet/webhooks';
import { ApiError } from '../common/api-error';
import { WebhookFields } from './webhook-input';
import { DeliveryRow, WebhookRow, WebhooksRepository } from './webhooks.repository';

/** A subscription as the routes answer it: never its secret (shown once, at creation and rotation). */
export function webhookView(row: WebhookRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    device_ids: row.device_ids,
    batch_size: row.batch_size,
    state: row.disabled_at !== null ? 'disabled' : row.paused ? 'paused' : 'active',
    paused: row.paused,
    disabled_at: iso(row.disabled_at),
    disabled_reason: row.disabled_reason,
    failing_since: iso(row.failing_since),
    previous_secret_expires_at: iso(row.previous_secret_expires_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function deliveryView(row: DeliveryRow) {
  const waiting = row.status === 'pending' || row.status === 'failed';
  return {
    id: Number(row.id),
    event_id: row.event_id,
    event_type: row.event_type,
    occurred_at: row.occurred_at.toISOString(),
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    last_latency_ms: row.last_latency_ms,
    first_attempt_at: iso(row.first_attempt_at),
    last_attempt_at: iso(row.last_attempt_at),
    next_attempt_at: waiting ? row.next_attempt_at.toISOString() : null,
    delivered_at: iso(row.delivered_at),
    created_at: row.created_at.toISOString(),
  };
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** Subscriptions of one account: caps, device ownership, secrets, the on-demand test event. */
@Injectable()
export class WebhooksService {
  /** Judges IP-literal URLs when they are written; host names are judged at each delivery. */
  readonly policy: AddressPolicy;

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.policy = new AddressPolicy({ allowPrivateTargets: config.webhooks.allowPrivateTargets });
  }

  async create(account: Account, fields: WebhookFields): Promise<{ webhook: WebhookRow; secret: string }> {
    if (fields.url === undefined) throw ApiError.validation('url is required');
    if (fields.events === undefined) throw ApiError.validation('events is required');
    await this.checkDevices(account, fields.deviceIds);
    const secret = generateWebhookSecret();
    const cap = this.config.webhooks.maxPerAccount;
    const webhook = await this.repository.transaction(async (tx) => {
      if ((await this.repository.lockAndCount(tx, account.id)) >= cap)
        throw ApiError.validation(`an account may have at most ${cap} webhooks; delete one first`);
      return this.repository.insert(tx, account.id, {
        url: fields.url as string,
        description: fields.description ?? '',
        events: fields.events as string[],
        deviceIds: fields.deviceIds ?? null,
        batchSize: fields.batchSize ?? 1,
        secret: this.secrets.seal(secret, account.id),
        paused: fields.paused ?? false,
      });
    });
    return { webhook, secret };
  }

  list(account: Account): Promise<WebhookRow[]> {
    return this.repository.list(account.id);
  }

  async get(account: Account, id: number): Promise<WebhookRow> {
    const row = await this.repository.find(account.id, id);
    if (!row) throw notFound(id);
    return row;
  }

  async update(account: Account, id: number, fields: WebhookFields): Promise<WebhookRow> {
    if (Object.keys(fields).length === 0)
      throw ApiError.validation(
        'give at least one of url, events, device_ids, description, batch_size, paused',
      );
    await this.get(account, id);
    await this.checkDevices(account, fields.deviceIds);
    const row = await this.repository.update(account.id, id, fields);
    if (!row) throw notFound(id);
    return row;
  }

  async delete(account: Account, id: number): Promise<void> {
    if (!(await this.repository.delete(account.id, id))) throw notFound(id);
  }

  async rotateSecret(
    account: Account,
    id: number,
    graceSeconds: number,
  ): Promise<{ webhook: WebhookRow; secret: string }> {
    const secret = generateWebhookSecret();
    const webhook = await this.repository.transaction(async (tx) => {
      const stored = await this.repository.lockSecret(tx, account.id, id);
      if (stored === undefined) return undefined;
      // The outgoing secret is kept sealed with today's key whatever its form (a row from before sealing
      // holds it in clear); one no configured key opens could sign nothing, so it is dropped.
      const outgoing = this.secrets.open(stored, account.id);
      const previous =
        outgoing === undefined
          ? null
          : outgoing.reseal
            ? this.secrets.seal(outgoing.secret, account.id)
            : stored;
      return this.repository.rotateSecret(
        tx,
        account.id,
        id,
        this.secrets.seal(secret, account.id),
        previous,
        graceSeconds,
      );
    });
    if (!webhook) throw notFound(id);
    return { webhook, secret };
  }

  async deliveries(
    account: Account,
    id: number,
    before: number | undefined,
    status: string | undefined,
    limit: number,
  ): Promise<DeliveryRow[]> {
    await this.get(account, id);
    return this.repository.deliveries(id, before, status, limit);
  }

  async redeliver(account: Account, id: number, deliveryId: number | undefined): Promise<number> {
    await this.get(account, id);
    const count = await this.repository.redeliver(id, deliveryId);
    if (deliveryId !== undefined && count === 0)
      throw ApiError.notFound(
        `delivery ${deliveryId} not found among this webhook's, or being sent right now`,
      );
    return count;
  }

  /** Queues a `webhook.test` event to this subscription alone; answers its event id. */
  async test(account: Account, id: number): Promise<string> {
    await this.get(account, id);
    const event = testEvent(id, account.id);
    await this.repository.transaction((tx) => recordWebhookEventFor(tx, id, event));
    return event.id;
  }

  private async checkDevices(account: Account, deviceIds: number[] | null | undefined): Promise<void> {
    if (!deviceIds) return;
    const foreign = await this.repository.foreignDevices(account.id, deviceIds);
    if (foreign.length > 0)
      throw ApiError.validation(
        `device_ids: ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''} not among your devices`,
      );
  }
}

function notFound(id: number): ApiError {
  return ApiError.notFound(`webhook ${id} not found among yours`);
}
