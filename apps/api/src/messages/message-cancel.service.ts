import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { isFinalStatus, MessageStatus, statusTitle, WAITING_STATUSES } from '@smsfleet/contracts';
import {
  CancelSelection,
  cancelLockedMessages,
  LockedMessage,
  lockMessagesToCancel,
  lockMessageToReschedule,
  messagesWithPendingReports,
  rescheduleLockedMessage,
} from '@smsfleet/persistence';
import { enqueueableFrom, JOB_TOMBSTONE_MS, MessageEnqueuer, WaitingJobRemover } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { sqlState } from '../common/dependency-failure';
import { dueTime } from './client-date';

/** What a cancel did to one message. */
export type CancelResult = 'cancelled' | 'taken' | 'final' | 'not_found';

export interface CancelOutcome {
  id: number;
  result: CancelResult;
  /** Its status after the call (205 when cancelled); null when not found. */
  status: number | null;
}

export const CANCELLED_ERROR = 'cancelled by the account';
/** Messages locked per transaction (and per round of queue removals). */
const CANCEL_CHUNK = 500;
/** A filter cancels at most this many per request; `more` tells the client to call again. */
export const CANCEL_MAX_PER_REQUEST = 10_000;

const WAITING: ReadonlySet<number> = new Set(WAITING_STATUSES);
/** Attempts of a transaction PostgreSQL rolled back as a deadlock or serialization failure. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Runs `attempt` again when PostgreSQL rolled it back as a deadlock (40P01) or serialization failure: the
 * status writer updates the rows of its batch in the order of its plan, so its locks and a cancel's
 * (id order) can meet the other way round. Each attempt locks its rows before it touches Redis, so a
 * rolled-back one removed no job.
 */
async function retryingConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const state = error instanceof Error ? sqlState(error) : undefined;
      if (n >= CONFLICT_ATTEMPTS || (state !== '40P01' && state !== '40001')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    }
  }
}

/**
 * Cancel and reschedule of waiting messages (ADR 2211). Each message row is locked in PostgreSQL while its
 * job is removed from its device queue only if no dispatcher fetched it (`WaitingJobRemover`, one atomic
 * Redis script): a phone that took the message first wins ("taken"), otherwise the cancel does, and the
 * message's final status says which. A job the phone took whose report is still in the status inbox counts
 * as taken too. The SQL is in libs/persistence/src/messages/cancel.ts.
 */
@Injectable()
export class MessageCancelService {
  private readonly logger = new Logger(MessageCancelService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly remover: WaitingJobRemover,
    private readonly enqueuer: MessageEnqueuer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Cancels the selected messages; `more` when a filter matched more than one request may take. */
  async cancel(
    account: Account,
    selection: CancelSelection,
  ): Promise<{ outcomes: CancelOutcome[]; more: boolean }> {
    const outcomes: CancelOutcome[] = [];
    let afterId = 0;
    let more = false;
    const started = Date.now();
    for (;;) {
      const limit =
        'ids' in selection
          ? selection.ids.length
          : Math.min(CANCEL_CHUNK, CANCEL_MAX_PER_REQUEST - outcomes.length);
      const { rows, chunk } = await retryingConflicts(() =>
        this.cancelChunk(account, selection, afterId, limit),
      );
      outcomes.push(...chunk);
      if ('ids' in selection || rows < limit) break;
      afterId = chunk[chunk.length - 1].id;
      if (outcomes.length >= CANCEL_MAX_PER_REQUEST) {
        more = true;
        break;
      }
    }
    if ('ids' in selection) {
      const seen = new Set(outcomes.map((outcome) => outcome.id));
      for (const id of selection.ids)
        if (!seen.has(id)) outcomes.push({ id, result: 'not_found', status: null });
      outcomes.sort((a, b) => a.id - b.id);
    }
    const cancelled = outcomes.filter((outcome) => outcome.result === 'cancelled').length;
    this.logger.log(
      { userId: account.id, matched: outcomes.length, cancelled, more, ms: Date.now() - started },
      'messages cancelled',
    );
    return { outcomes, more };
  }

  private async cancelChunk(
    account: Account,
    selection: CancelSelection,
    afterId: number,
    limit: number,
  ): Promise<{ rows: number; chunk: CancelOutcome[] }> {
    let removed: LockedMessage[] = [];
    try {
      return await this.db.transaction(async (tx) => {
        const rows = await lockMessagesToCancel(tx, account.id, selection, afterId, limit);
        const waiting = rows.filter((row) => WAITING.has(row.status));
        const reported = await messagesWithPendingReports(
          tx,
          waiting.map((row) => Number(row.id)),
        );
        const candidates = waiting.filter((row) => !reported.has(Number(row.id)));
        // Every candidate's job is looked at, enqueued_at or not: an add may be in flight (the API adds after
        // its commit); the tombstone makes that add a no-op.
        const removals = await Promise.all(
          candidates.map((row) =>
            this.remover.removeIfWaiting(row.device_id, Number(row.id), JOB_TOMBSTONE_MS),
          ),
        );
        removed = candidates.filter((_, index) => removals[index] === 'removed');
        const cancellable = candidates
          .filter((_, index) => removals[index] !== 'held')
          .map((row) => Number(row.id));
        const cancelled = new Set(await cancelLockedMessages(tx, cancellable, CANCELLED_ERROR));
        const chunk = rows.map((row): CancelOutcome => {
          const id = Number(row.id);
          if (cancelled.has(id)) return { id, result: 'cancelled', status: MessageStatus.Cancelled };
          return { id, result: isFinalStatus(row.status) ? 'final' : 'taken', status: row.status };
        });
        return { rows: rows.length, chunk };
      });
    } catch (error) {
      // The transaction did not commit: the jobs it removed go back (same job ids, their old times).
      if (removed.length > 0) await this.putBack(removed);
      throw error;
    }
  }

  /**
   * Gives a waiting message a new send time (`timetosend`, as addsms reads it: none or past = now) and a
   * validity counted from it, and moves its job: removed only if no dispatcher fetched it, then added with
   * the new delay — or, beyond the scheduling horizon, left to the outbox sweep.
   */
  async reschedule(account: Account, id: number, timeToSend: Date | undefined) {
    const now = new Date();
    const due = dueTime(timeToSend, now);
    const validUntil = new Date(due.getTime() + this.config.messages.validitySeconds * 1_000);
    const withinHorizon = this.enqueuer.withinHorizon(due, now.getTime());
    await retryingConflicts(() => this.rescheduleOnce(account, id, due, validUntil, withinHorizon));
    this.logger.log({ userId: account.id, messageId: id, withinHorizon }, 'message rescheduled');
    return { id, timeToSend: due, validUntil, queued: withinHorizon };
  }

  private async rescheduleOnce(
    account: Account,
    id: number,
    due: Date,
    validUntil: Date,
    withinHorizon: boolean,
  ): Promise<void> {
    let removedOld: LockedMessage | undefined;
    try {
      await this.db.transaction(async (tx) => {
        const row = await lockMessageToReschedule(tx, account.id, id);
        if (!row) throw ApiError.notFound(`message ${id} not found among your messages`);
        this.assertWaiting(row, await messagesWithPendingReports(tx, [id]));
        // No tombstone: the job is added again here, or (beyond the horizon) by the outbox sweep, which a
        // tombstone still alive at that moment would silently swallow.
        const removal = await this.remover.removeIfWaiting(row.device_id, id);
        if (removal === 'held') throw notWaiting(id, MessageStatus.TakenFromServer);
        if (removal === 'removed') removedOld = row;
        await rescheduleLockedMessage(tx, id, due, validUntil);
        if (withinHorizon)
          await this.enqueuer.enqueue(
            [enqueueableFrom({ ...row, time_to_send: due, valid_until: validUntil })],
            tx as EntityManager,
          );
      });
    } catch (error) {
      if (removedOld) await this.putBack([removedOld]);
      throw error;
    }
  }

  private assertWaiting(row: LockedMessage, reported: Set<number>): void {
    if (!WAITING.has(row.status)) throw notWaiting(Number(row.id), row.status);
    if (reported.has(Number(row.id))) throw notWaiting(Number(row.id), MessageStatus.TakenFromServer);
  }

  /** Best effort: a removed job whose transaction failed is added again; the expiry sweep is the last resort. */
  private async putBack(rows: LockedMessage[]): Promise<void> {
    try {
      await Promise.all(rows.map((row) => this.remover.removeIfWaiting(row.device_id, Number(row.id))));
      await this.enqueuer.enqueue(rows.map(enqueueableFrom));
    } catch (error) {
      this.logger.error(
        { err: error as Error, messageIds: rows.map((row) => Number(row.id)) },
        'jobs removed by a failed cancel or reschedule not added again; run reconcile',
      );
    }
  }
}

function notWaiting(id: number, status: number): ApiError {
  const why = isFinalStatus(status) ? 'is final' : 'was taken by a phone';
  return new ApiError(
    'not_waiting',
    `message ${id} ${why} (status ${status}, ${statusTitle(status)}): only a waiting message can be changed`,
  );
}
