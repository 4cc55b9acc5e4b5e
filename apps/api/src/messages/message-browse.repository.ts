import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { MessageFilter } from './message-filter';
import { whereClause } from './message-list.service';

export interface BrowsedMessageRow {
  id: number;
  sendto: string;
  body: string;
  customer_id: number | null;
  status: number;
  status_error: string | null;
  device_id: number;
  sim: number;
  urgent: boolean;
  created_at: Date;
  time_to_send: Date;
  taken_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  newsletter_id: number | null;
}

export interface MessageEventRow {
  status: number;
  at: Date;
  recorded_at: Date;
  error: string | null;
}

const COLUMNS = `m.id, m.sendto, m.body, m.customer_id, m.status, m.status_error, m.device_id, m.sim, m.urgent,
  m.created_at, m.time_to_send, m.taken_at, m.sent_at, m.delivered_at, m.failed_at, m.newsletter_id`;

/** /v1/messages: the caller's messages by keyset (id), newest first unless asked otherwise. */
@Injectable()
export class MessageBrowseRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Up to `limit` + 1 rows after the cursor: the extra one only says whether a next page exists. */
  async page(
    account: Account,
    filter: MessageFilter,
    after: number | undefined,
    limit: number,
  ): Promise<BrowsedMessageRow[]> {
    const { where, params } = whereClause(account, filter);
    const direction = filter.descending ? 'DESC' : 'ASC';
    let keyset = '';
    if (after !== undefined) {
      params.push(after);
      keyset = ` AND m.id ${filter.descending ? '<' : '>'} $${params.length}`;
    }
    params.push(limit + 1);
    return this.db.query(
      `SELECT ${COLUMNS} FROM messages m WHERE ${where}${keyset} ORDER BY m.id ${direction} LIMIT $${params.length}`,
      params,
    );
  }

  async one(account: Account, id: number): Promise<BrowsedMessageRow | undefined> {
    const rows: BrowsedMessageRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM messages m WHERE m.user_id = $1 AND m.id = $2`,
      [account.id, id],
    );
    return rows[0];
  }

  /** The message's history; the caller has already found the message among the account's. */
  async events(messageId: number): Promise<MessageEventRow[]> {
    return this.db.query(
      `SELECT status, at, recorded_at, error FROM message_events WHERE message_id = $1 ORDER BY at, id`,
      [messageId],
    );
  }
}
