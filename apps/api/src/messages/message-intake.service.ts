import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import { Account, TtlCache } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { SimSlot } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { EnqueueableMessage, MessageEnqueuer } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { sqlState } from '../common/dependency-failure';
import { IdempotencyClaim } from '../common/idempotency-key';
import { SendCapabilities } from '../devices/send-capabilities';
import { describeItemErrors } from '../common/item-errors';
import { dueTime } from './client-date';
import { InsertRequest, MessageInserter, MessageRow } from './message-inserter';
import { MessageRouting } from './message-routing';
import { Recipient } from './recipients';

/** Where the caller sends: one of its devices, or one of its pools (routing picks a member; ADR 2221). */
export type MessageTarget =
  { deviceId: number; poolId?: undefined } | { poolId: number; deviceId?: undefined };

/** The messages of one `addsms` call: one body to one or more recipients. */
export type NewMessages = MessageTarget & {
  recipients: Recipient[];
  body: string;
  sim: SimSlot;
  urgent: boolean;
  customerId?: number;
  timeToSend?: Date;
};

/** One message to one recipient, as `addalotofsms` items become; not yet routed when sent to a pool. */
export type NewMessage = MessageTarget & Omit<MessageRow, 'deviceId' | 'poolId'> & { timeToSend?: Date };

/** A message whose device is known: the caller's, or the pool member routing chose. */
export type RoutedMessage = MessageRow & { timeToSend?: Date };

/** How long a request waits for Redis before leaving its messages to the scheduler's outbox sweep. */
const ENQUEUE_TIMEOUT_MS = 2_000;
/**
 * A bulk request answers about this long after it arrived (plus the insert, if that alone takes longer),
 * whatever Redis does: clients time out at 2 s.
 * Enqueueing that is not done by then goes on after the answer (and the outbox sweep is the safety net).
 */
export const BULK_ANSWER_BUDGET_MS = 1_000;

/**
 * Accepts messages: stored all or nothing (`MessageInserter`), then put into the device queues.
 * PostgreSQL is the outbox: if enqueueing fails, the messages are still accepted and the scheduler's
 * sweep enqueues them.
 */
@Injectable()
export class MessageIntakeService {
  private readonly logger = new Logger(MessageIntakeService.name);
  private readonly ownDevices = new TtlCache<string, true>(60_000, 100_000);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly enqueuer: MessageEnqueuer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly inserter: MessageInserter,
    private readonly capabilities: SendCapabilities,
    private readonly routing: MessageRouting,
  ) {}

  async accept(account: Account, input: NewMessages, claim?: IdempotencyClaim): Promise<number[]> {
    if (input.deviceId !== undefined) await this.assertOwnDevices(account, [input.deviceId]);
    const routed = await this.routing.route(
      account,
      input.recipients.map((recipient) => ({ ...input, recipient })),
      false,
    );
    try {
      await this.capabilities.assertSendable(routed);
      return await this.store(account, routed, claim);
    } finally {
      this.routing.release(routed);
    }
  }

  /** Many messages of one request; every device must be the caller's (else nothing is stored). */
  async acceptMany(
    account: Account,
    messages: NewMessage[],
    answerBy?: number,
    claim?: IdempotencyClaim,
  ): Promise<number[]> {
    const named = messages.flatMap((m) => (m.deviceId === undefined ? [] : [m.deviceId]));
    const foreign = await this.foreignDevices(account, [...new Set(named)]);
    if (foreign.size > 0) {
      const details = messages.flatMap((message, index) =>
        message.deviceId !== undefined && foreign.has(message.deviceId)
          ? [
              {
                index,
                field: 'device_id',
                message: `device_id ${message.deviceId} not found among your devices`,
              },
            ]
          : [],
      );
      throw new ApiError('not_found', describeItemErrors(details), details);
    }
    const routed = await this.routing.route(account, messages, true);
    try {
      await this.capabilities.assertSendable(routed, true);
      return await this.store(account, routed, claim, answerBy);
    } finally {
      this.routing.release(routed);
    }
  }

  /** `answerBy` (a performance.now() time) caps how long the request waits for the queues. */
  private async store(
    account: Account,
    messages: RoutedMessage[],
    claim?: IdempotencyClaim,
    answerBy?: number,
  ): Promise<number[]> {
    const now = new Date();
    const started = now.getTime();
    const validityMs = this.config.messages.validitySeconds * 1_000;
    const due = messages.map((message) => dueTime(message.timeToSend, now));
    const request: InsertRequest = { userId: account.id, rows: messages, due, createdAt: now };
    // Concurrent requests may share their statements (keyed ones: their transaction).
    let outcome: { ids: number[]; replayed: boolean };
    try {
      outcome =
        claim === undefined
          ? { ids: await this.inserter.insert(request), replayed: false }
          : await this.inserter.insertOnce(request, claim);
    } catch (error) {
      throw poolGoneMeanwhile(error, messages) ?? error;
    }
    // A replay answers the first request's ids; those were enqueued then (or are the sweep's).
    if (outcome.replayed) {
      this.logger.log(
        { userId: account.id, count: outcome.ids.length, firstMessageId: outcome.ids[0] },
        'idempotent replay answered',
      );
      return outcome.ids;
    }
    const ids = outcome.ids;
    const queueable = messages.flatMap((message, index) =>
      this.enqueuer.withinHorizon(due[index])
        ? [
            {
              id: ids[index],
              deviceId: message.deviceId,
              sendto: message.recipient.sendto,
              body: message.body,
              sim: message.sim,
              urgent: message.urgent,
              timeToSend: due[index],
              validUntil: new Date(due[index].getTime() + validityMs),
              ...(message.poolId !== undefined ? { poolId: message.poolId } : {}),
            },
          ]
        : [],
    );
    const waitMs =
      answerBy === undefined
        ? ENQUEUE_TIMEOUT_MS
        : Math.max(0, Math.min(ENQUEUE_TIMEOUT_MS, answerBy - performance.now()));
    await this.enqueueOrLeaveToSweep(queueable, waitMs);
    this.metrics.messagesAccepted.inc(ids.length);
    this.metrics.intakeDuration.observe(Metrics.secondsSince(started));
    const devices = new Set(messages.map((m) => m.deviceId));
    this.logger.log(
      {
        userId: account.id,
        ...(devices.size === 1 ? { deviceId: messages[0].deviceId } : { devices: devices.size }),
        count: ids.length,
        firstMessageId: ids[0],
        lastMessageId: ids.at(-1),
        ms: Date.now() - started,
      },
      'messages accepted',
    );
    return ids;
  }

  /** The device or pool a request names is the caller's (before work that must not happen otherwise). */
  async assertOwnTarget(account: Account, target: MessageTarget): Promise<void> {
    if (target.deviceId !== undefined) await this.assertOwnDevices(account, [target.deviceId]);
    else await this.routing.assertOwnPool(account, target.poolId);
  }

  async assertOwnDevices(account: Account, deviceIds: number[]): Promise<void> {
    const foreign = await this.foreignDevices(account, deviceIds);
    if (foreign.size > 0)
      throw ApiError.notFound(`device_id ${[...foreign][0]} not found among your devices`);
  }

  /** A device's secret was rotated or the device removed (here or on another replica): look it up again. */
  forgetDevice(userId: number, deviceId: number): void {
    this.ownDevices.delete(`${userId}:${deviceId}`);
  }

  /**
   * Those of the ids that are not devices of the caller (unknown, removed and foreign alike). A device
   * never changes hands, so ownership once seen is remembered for a while (one query less per request);
   * a removal is announced (DeviceRevocationSignal) and forgets it.
   */
  private async foreignDevices(account: Account, deviceIds: number[]): Promise<Set<number>> {
    const unknown = deviceIds.filter((id) => !this.ownDevices.get(`${account.id}:${id}`));
    if (unknown.length === 0) return new Set();
    const found: Array<{ id: number }> = await this.db.query(
      `SELECT id FROM devices WHERE user_id = $1 AND id = ANY($2::int[]) AND removed_at IS NULL`,
      [account.id, unknown],
    );
    const own = new Set(found.map((row) => row.id));
    for (const id of own) this.ownDevices.set(`${account.id}:${id}`, true);
    return new Set(unknown.filter((id) => !own.has(id)));
  }

  private async enqueueOrLeaveToSweep(messages: EnqueueableMessage[], waitMs: number): Promise<void> {
    if (messages.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.enqueuer.enqueueWithOthers(messages),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`enqueue not finished within ${waitMs} ms`)), waitMs);
        }),
      ]);
    } catch (error) {
      // Stored and acknowledged. A slow enqueue goes on after the answer; whatever never gets
      // enqueued_at is enqueued by the scheduler's outbox sweep (same job ids: no duplicates).
      this.logger.warn(
        {
          messageIds: messages.length > 50 ? `${messages.length} messages` : messages.map((m) => m.id),
          err: error,
        },
        'enqueue failed or not finished in time; the outbox sweep covers it',
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A pool deleted after the request's check and before its insert: the foreign key `messages_pool` refused
 * the statement, so nothing of the request was stored (its rows are one statement, a keyed one's claim is
 * in the same transaction). The answer is the check's own, as if the pool had gone a moment earlier.
 */
function poolGoneMeanwhile(error: unknown, messages: readonly RoutedMessage[]): ApiError | undefined {
  if (!(error instanceof QueryFailedError) || sqlState(error) !== '23503') return undefined;
  const cause = error.driverError as { constraint?: string; detail?: string };
  if (cause.constraint !== 'messages_pool') return undefined;
  const named = /\(pool_id\)=\((\d+)\)/.exec(cause.detail ?? '')?.[1];
  const poolId = named ?? messages.find((message) => message.poolId !== undefined)?.poolId;
  return ApiError.validation(`pool_id ${poolId} not found among your pools`);
}
