import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { SimSlot } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { IdempotencyClaim } from '../common/idempotency-key';
import { IdempotencyKeysService } from '../common/idempotency-keys.service';
import { SendCapabilities } from '../devices/send-capabilities';

export interface NewNewsletter {
  title: string;
  deviceId: number;
  body: string;
  tagIds: number[];
  sim: SimSlot;
  /** Undefined: now. */
  timeToSend?: Date;
}

/** Stores newsletters; the scheduler turns each into messages when it is due. */
@Injectable()
export class NewsletterService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly idempotency: IdempotencyKeysService,
    private readonly capabilities: SendCapabilities,
  ) {}

  async create(account: Account, input: NewNewsletter, claim?: IdempotencyClaim): Promise<number> {
    const [devices, tags]: [unknown[], Array<{ id: number }>] = await Promise.all([
      this.db.query(`SELECT 1 FROM devices WHERE id = $1 AND user_id = $2 AND removed_at IS NULL`, [
        input.deviceId,
        account.id,
      ]),
      this.db.query(`SELECT id FROM tags WHERE user_id = $1 AND id = ANY($2::int[])`, [
        account.id,
        input.tagIds,
      ]),
    ]);
    if (devices.length === 0)
      throw ApiError.notFound(`device_id ${input.deviceId} not found among your devices`);
    const own = new Set(tags.map((tag) => tag.id));
    const missing = input.tagIds.filter((id) => !own.has(id));
    if (missing.length > 0) throw ApiError.notFound(`tags ${missing.join(', ')} not found among your tags`);
    await this.capabilities.assertSendable([input]);
    const { ids } = await this.idempotency.once(account.id, claim, async (db) => {
      const [{ id }]: Array<{ id: number }> = await db.query(
        `INSERT INTO newsletters (user_id, device_id, title, body, sim, tag_ids, time_to_send)
       VALUES ($1, $2, $3, $4, $5, $6::int[], COALESCE($7, now())) RETURNING id`,
        [
          account.id,
          input.deviceId,
          input.title,
          input.body,
          input.sim,
          input.tagIds,
          input.timeToSend ?? null,
        ],
      );
      return [id];
    });
    return ids[0];
  }
}
