import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { CoalescingBatcher, insertMessages } from '@smsfleet/persistence';
import { SimSlot } from '@smsfleet/contracts';
import { sqlState } from '../common/dependency-failure';
import { IdempotencyClaim } from '../common/idempotency-key';
import { IdempotencyKeysService, Outcome } from '../common/idempotency-keys.service';
import { Recipient } from './recipients';

/** One message row as a request stores it. */
export interface MessageRow {
  /** The device whose queue it goes to: the one the caller named, or the pool member routing chose. */
  deviceId: number;
  /** The pool the caller sent it to (absent: pinned to `deviceId`). */
  poolId?: number;
  recipient: Recipient;
  body: string;
  sim: SimSlot;
  urgent: boolean;
  customerId?: number;
}

/** The rows of one request: all stored, or none. */
export interface InsertRequest {
  userId: number;
  rows: MessageRow[];
  /** When each row is due (same order as `rows`). */
  due: Date[];
  /** The request's arrival: every row's `created_at`. */
  createdAt: Date;
}

/** A request with an Idempotency-Key: its key is claimed in the transaction that stores its rows. */
interface KeyedInsert {
  request: InsertRequest;
  claim: IdempotencyClaim;
}

const keyOf = (userId: number, key: string) => `${userId}\n${key}`;

/**
 * Concurrent requests whose statements are in flight wait and go out together. Bounded below the pool (20)
 * so that reads and other writes still find a connection.
 */
export const INSERTS_IN_FLIGHT = 4;

/**
 * Stores messages: requests that arrive together share one INSERT (and, with Idempotency-Keys, one
 * transaction that claims all their keys). Under single-message load (OTPs) that turns a round trip,
 * commit and WAL flush per request into one per batch; a request's rows stay all or nothing, since the
 * whole statement (or transaction) is.
 */
@Injectable()
export class MessageInserter {
  private readonly batcher = new CoalescingBatcher<InsertRequest, PromiseSettledResult<number[]>>(
    (requests) => this.insertTogether(requests),
    INSERTS_IN_FLIGHT,
  );

  private readonly keyedBatcher = new CoalescingBatcher<KeyedInsert, PromiseSettledResult<Outcome>>(
    (items) => this.insertKeyedTogether(items),
    INSERTS_IN_FLIGHT,
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly idempotency: IdempotencyKeysService,
  ) {}

  /** Stores one request's rows, possibly in a statement shared with other requests; returns their ids. */
  async insert(request: InsertRequest): Promise<number[]> {
    const outcome = await this.batcher.submit(request);
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  }

  /**
   * Stores one request's rows at most once per Idempotency-Key (a replay answers the first request's ids),
   * possibly in a transaction shared with other keyed requests.
   */
  async insertOnce(request: InsertRequest, claim: IdempotencyClaim): Promise<Outcome> {
    const outcome = await this.keyedBatcher.submit({ request, claim });
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  }

  /** Stores one request's rows in the caller's transaction, alone. */
  async insertIn(db: EntityManager, request: InsertRequest): Promise<number[]> {
    return (await this.insertRows(db, [request]))[0];
  }

  /** One keyed request in a transaction of its own (which also answers replays and conflicts). */
  private alone(item: KeyedInsert): Promise<Outcome> {
    return this.idempotency.once(item.request.userId, item.claim, (db) => this.insertIn(db, item.request));
  }

  /**
   * One transaction claims the keys of all requests and stores the rows of those it claimed. A key
   * claimed before (a replay, or a concurrent request holding it) and a key twice in the batch are
   * answered afterwards, alone, by the replay path, which then sees the committed first request.
   */
  private async insertKeyedTogether(items: KeyedInsert[]): Promise<PromiseSettledResult<Outcome>[]> {
    if (items.length === 1) return Promise.allSettled([this.alone(items[0])]);
    const seen = new Set<string>();
    const firsts = items.filter((item) => {
      const key = keyOf(item.request.userId, item.claim.key);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    let stored: Map<KeyedInsert, number[]>;
    try {
      stored = await this.db.transaction((tx) => this.claimAndStore(tx, firsts));
    } catch (error) {
      // As for unkeyed batches: refused by PostgreSQL, each alone; anything else may have committed.
      if (!isStatementError(error)) return items.map(() => ({ status: 'rejected', reason: error }));
      return Promise.allSettled(items.map((item) => this.alone(item)));
    }
    const others = items.filter((item) => !stored.has(item));
    const replayed = new Map(
      (await Promise.allSettled(others.map((item) => this.alone(item)))).map((outcome, n) => [
        others[n],
        outcome,
      ]),
    );
    return items.map((item): PromiseSettledResult<Outcome> => {
      const ids = stored.get(item);
      return ids ? { status: 'fulfilled', value: { ids, replayed: false } } : replayed.get(item)!;
    });
  }

  /** Claims the keys (distinct) in `tx` and stores the rows of the requests it claimed; answers their ids. */
  private async claimAndStore(tx: EntityManager, items: KeyedInsert[]): Promise<Map<KeyedInsert, number[]>> {
    // Sorted, so that two batches wanting the same keys wait on each other in one order (no deadlock).
    const claimed: Array<{ user_id: number; key: string }> = await tx.query(
      `INSERT INTO idempotency_keys (user_id, key, endpoint, fingerprint)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS k(user_id, key, endpoint, fingerprint)
        ORDER BY user_id, key
       ON CONFLICT (user_id, key) DO NOTHING
       RETURNING user_id, key`,
      [
        items.map((item) => item.request.userId),
        items.map((item) => item.claim.key),
        items.map((item) => item.claim.endpoint),
        items.map((item) => item.claim.fingerprint),
      ],
    );
    const ours = new Set(claimed.map((row) => keyOf(row.user_id, row.key)));
    const fresh = items.filter((item) => ours.has(keyOf(item.request.userId, item.claim.key)));
    if (fresh.length === 0) return new Map();
    const ids = await this.insertRows(
      tx,
      fresh.map((item) => item.request),
    );
    await tx.query(
      `UPDATE idempotency_keys AS k SET result_ids = v.ids
         FROM json_to_recordset($1::json) AS v(user_id int, key text, ids bigint[])
        WHERE k.user_id = v.user_id AND k.key = v.key`,
      [
        JSON.stringify(
          fresh.map((item, n) => ({ user_id: item.request.userId, key: item.claim.key, ids: ids[n] })),
        ),
      ],
    );
    return new Map(fresh.map((item, n) => [item, ids[n]]));
  }

  private async insertTogether(requests: InsertRequest[]): Promise<PromiseSettledResult<number[]>[]> {
    try {
      const ids = await this.insertRows(this.db.manager, requests);
      return ids.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      // PostgreSQL refused the statement (so it stored nothing): one request's rows may have failed it
      // for all (or a deadlock rolled it back), so each request alone gets its own outcome. Any other
      // failure (a lost connection) may have come after the commit: inserting again could store the
      // rows twice, so every request gets the error.
      if (!isStatementError(error)) return requests.map(() => ({ status: 'rejected', reason: error }));
      return Promise.allSettled(requests.map((request) => this.insertIn(this.db.manager, request)));
    }
  }

  /** One INSERT for all rows of `requests`; answers each request's ids, ascending, in its rows' order. */
  private async insertRows(db: EntityManager, requests: InsertRequest[]): Promise<number[][]> {
    const inserted = await insertMessages(
      db,
      this.config.messages.validitySeconds,
      requests.flatMap((request) =>
        request.rows.map((m, n) => ({
          userId: request.userId,
          deviceId: m.deviceId,
          sendto: m.recipient.sendto,
          phone: m.recipient.phone,
          body: m.body,
          sim: m.sim,
          urgent: m.urgent,
          customerId: m.customerId ?? null,
          timeToSend: request.due[n],
          createdAt: request.createdAt,
          poolId: m.poolId ?? null,
        })),
      ),
    );
    // Ids come from one sequence in row order, so ascending ids follow the rows' order, request by request.
    const ids = inserted.sort((a, b) => a - b);
    let offset = 0;
    return requests.map((request) => {
      const own = ids.slice(offset, offset + request.rows.length);
      offset += request.rows.length;
      return own;
    });
  }
}

/**
 * PostgreSQL refused the statement itself, so nothing of it was stored: SQLSTATE class 22 (data), 23
 * (integrity) or 40 (a deadlock or serialization failure that rolled the transaction back).
 */
function isStatementError(error: unknown): boolean {
  const state = error instanceof Error ? sqlState(error) : undefined;
  return state !== undefined && /^(22|23|40)/.test(state);
}
