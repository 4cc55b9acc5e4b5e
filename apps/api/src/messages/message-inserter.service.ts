import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { CoalescingBatcher } from '@smsfleet/persistence';
import { SimSlot } from '@smsfleet/contracts';
import { Recipient } from './recipients';

/** One message row as a request stores it. */
export interface MessageRow {
  deviceId: number;
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

/**
 * Concurrent requests whose statements are in flight wait and go out together. Bounded below the pool (20)
 * so that reads and other writes still find a connection.
 */
export const INSERTS_IN_FLIGHT = 4;

/**
 * Stores messages: one multi-row INSERT per request, or, for requests without an Idempotency-Key that
 * arrive together, one INSERT for all of them. Under single-message load (OTPs) that turns one round
 * trip, commit and WAL flush per request into one per batch; a request's rows stay all or nothing, since
 * the whole statement is.
 */
@Injectable()
export class MessageInserter {
  private readonly batcher = new CoalescingBatcher<InsertRequest, PromiseSettledResult<number[]>>(
    (requests) => this.insertTogether(requests),
    INSERTS_IN_FLIGHT,
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Stores one request's rows, possibly in a statement shared with other requests; returns their ids. */
  async insert(request: InsertRequest): Promise<number[]> {
    const outcome = await this.batcher.submit(request);
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  }

  /** Stores one request's rows in the caller's transaction (an idempotent write), alone. */
  async insertIn(db: EntityManager, request: InsertRequest): Promise<number[]> {
    return (await this.insertRows(db, [request]))[0];
  }

  private async insertTogether(requests: InsertRequest[]): Promise<PromiseSettledResult<number[]>[]> {
    try {
      const ids = await this.insertRows(this.db.manager, requests);
      return ids.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      // PostgreSQL refused the statement (so it stored nothing): one request's rows may have failed it for
      // all, so each request alone gets its own outcome. Any other failure (a lost connection) may have come
      // after the commit: inserting again could store the rows twice, so every request gets the error.
      if (requests.length === 1 || !isStatementError(error))
        return requests.map(() => ({ status: 'rejected', reason: error }));
      return Promise.allSettled(requests.map((request) => this.insertIn(this.db.manager, request)));
    }
  }

  /** One INSERT for all rows of `requests`; answers each request's ids, ascending, in its rows' order. */
  private async insertRows(db: EntityManager, requests: InsertRequest[]): Promise<number[][]> {
    const rows = requests.flatMap((request) => request.rows);
    const inserted: Array<{ id: number }> = await db.query(
      `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, urgent, customer_id, time_to_send, valid_until, created_at)
       SELECT m.user_id, m.device_id, m.sendto, m.phone, m.body, m.sim, m.urgent, m.customer_id, m.time_to_send,
              m.time_to_send + make_interval(secs => $1), m.created_at
         FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::smallint[], $8::boolean[], $9::bigint[], $10::timestamptz[], $11::timestamptz[])
              WITH ORDINALITY AS m(user_id, device_id, sendto, phone, body, sim, urgent, customer_id, time_to_send, created_at, n)
        ORDER BY m.n
       RETURNING id`,
      [
        this.config.messages.validitySeconds,
        requests.flatMap((request) => request.rows.map(() => request.userId)),
        rows.map((m) => m.deviceId),
        rows.map((m) => m.recipient.sendto),
        rows.map((m) => m.recipient.phone),
        rows.map((m) => m.body),
        rows.map((m) => m.sim),
        rows.map((m) => m.urgent),
        rows.map((m) => m.customerId ?? null),
        requests.flatMap((request) => request.due),
        requests.flatMap((request) => request.rows.map(() => request.createdAt)),
      ],
    );
    // Ids come from one sequence in row order, so ascending ids follow the rows' order, request by request.
    const ids = inserted.map((row) => Number(row.id)).sort((a, b) => a - b);
    let offset = 0;
    return requests.map((request) => {
      const own = ids.slice(offset, offset + request.rows.length);
      offset += request.rows.length;
      return own;
    });
  }
}

/** An error answer of PostgreSQL to the statement itself (SQLSTATE class 22 data or 23 integrity). */
function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}
