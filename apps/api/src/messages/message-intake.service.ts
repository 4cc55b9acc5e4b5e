import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { SimSlot } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { EnqueueableMessage, MessageEnqueuer } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { dueTime } from './client-date';
import { Recipient } from './recipients';

export interface NewMessages {
  deviceId: number;
  recipients: Recipient[];
  body: string;
  sim: SimSlot;
  urgent: boolean;
  customerId?: number;
  timeToSend?: Date;
}

/** How long a request waits for Redis before leaving its messages to the scheduler's outbox sweep. */
const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * Accepts messages: one INSERT for all recipients of a request (all or nothing), then the device queue.
 * PostgreSQL is the outbox: if enqueueing fails, the messages are still accepted and the scheduler's
 * sweep enqueues them.
 */
@Injectable()
export class MessageIntakeService {
  private readonly logger = new Logger(MessageIntakeService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly enqueuer: MessageEnqueuer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async accept(account: Account, input: NewMessages): Promise<number[]> {
    await this.assertOwnDevice(account, input.deviceId);
    const now = new Date();
    const started = now.getTime();
    const timeToSend = dueTime(input.timeToSend, now);
    const validUntil = new Date(timeToSend.getTime() + this.config.messages.validitySeconds * 1_000);
    const rows: Array<{ id: number }> = await this.db.query(
      `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, urgent, customer_id, time_to_send, valid_until, created_at)
       SELECT $1, $2, r.sendto, r.phone, $3, $4, $5, $6, $7, $8, $9
         FROM unnest($10::text[], $11::text[]) WITH ORDINALITY AS r(sendto, phone, n)
        ORDER BY r.n
       RETURNING id`,
      [
        account.id,
        input.deviceId,
        input.body,
        input.sim,
        input.urgent,
        input.customerId ?? null,
        timeToSend,
        validUntil,
        now,
        input.recipients.map((r) => r.sendto),
        input.recipients.map((r) => r.phone),
      ],
    );
    // Ids come from one sequence in row order, so ascending ids follow the recipients' order.
    const ids = rows.map((row) => row.id).sort((a, b) => a - b);
    if (this.enqueuer.withinHorizon(timeToSend)) {
      await this.enqueueOrLeaveToSweep(
        ids.map((id, index) => ({
          id,
          deviceId: input.deviceId,
          sendto: input.recipients[index].sendto,
          body: input.body,
          sim: input.sim,
          urgent: input.urgent,
          timeToSend,
          validUntil,
        })),
      );
    }
    this.metrics.messagesAccepted.inc(ids.length);
    this.metrics.intakeDuration.observe(Metrics.secondsSince(started));
    this.logger.log(
      {
        userId: account.id,
        deviceId: input.deviceId,
        count: ids.length,
        firstMessageId: ids[0],
        lastMessageId: ids.at(-1),
      },
      'messages accepted',
    );
    return ids;
  }

  private async assertOwnDevice(account: Account, deviceId: number): Promise<void> {
    const found: unknown[] = await this.db.query(`SELECT 1 FROM devices WHERE id = $1 AND user_id = $2`, [
      deviceId,
      account.id,
    ]);
    if (found.length === 0) throw ApiError.notFound(`device_id ${deviceId} not found among your devices`);
  }

  private async enqueueOrLeaveToSweep(messages: EnqueueableMessage[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.enqueuer.enqueue(messages),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from Redis within ${ENQUEUE_TIMEOUT_MS} ms`)),
            ENQUEUE_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      // Stored and acknowledged: the scheduler's outbox sweep enqueues what has no enqueued_at.
      this.logger.warn(
        { messageIds: messages.map((m) => m.id), err: error },
        'enqueue failed; left to the outbox sweep',
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
