import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { MAX_LIST_DEPTH, MessageFilter } from './message-filter';

/** A listed message, as read from PostgreSQL. */
export interface MessageListRow {
  id: number;
  sendto: string;
  body: string;
  customer_id: number | null;
  status: number;
  device_id: number;
  sim: number;
  urgent: boolean;
  created_at: Date;
  sent_at: Date | null;
  time_to_send: Date;
  newsletter_id: number | null;
  newsletter_title: string | null;
  newsletter_body: string | null;
}

/** getallsms: the caller's messages by filter, in id order, one page at a time, with the count of all matches. */
@Injectable()
export class MessageListService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Matches, counted up to MAX_LIST_DEPTH: a page's cost does not grow with the account's whole history. */
  async count(account: Account, filter: MessageFilter): Promise<number> {
    const { where, params } = whereClause(account, filter);
    params.push(MAX_LIST_DEPTH);
    const [{ count }]: Array<{ count: number }> = await this.db.query(
      `SELECT count(*)::bigint AS count FROM (SELECT 1 FROM messages m WHERE ${where} LIMIT $${params.length}) AS matches`,
      params,
    );
    return count;
  }

  async page(account: Account, filter: MessageFilter): Promise<MessageListRow[]> {
    const { where, params } = whereClause(account, filter);
    params.push(filter.limit, filter.offset);
    return this.db.query(
      `SELECT m.id, m.sendto, m.body, m.customer_id, m.status, m.device_id, m.sim, m.urgent, m.created_at,
              m.sent_at, m.time_to_send, m.newsletter_id, n.title AS newsletter_title, n.body AS newsletter_body
         FROM messages m
         LEFT JOIN newsletters n ON n.id = m.newsletter_id
        WHERE ${where}
        ORDER BY m.id ${filter.descending ? 'DESC' : 'ASC'}
        LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
  }
}

/** Every predicate starts with the tenant; the rest are bound parameters. */
export function whereClause(account: Account, filter: MessageFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [account.id];
  const predicates = ['m.user_id = $1'];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    predicates.push(sql(`$${params.length}`));
  };
  if (filter.deviceId !== undefined) add((p) => `m.device_id = ${p}`, filter.deviceId);
  if (filter.status !== undefined) add((p) => `m.status = ${p}`, filter.status);
  if (filter.from !== undefined) add((p) => `m.created_at >= ${p}`, filter.from);
  if (filter.until !== undefined) add((p) => `m.created_at < ${p}`, filter.until);
  if (filter.sim !== undefined) add((p) => `m.sim = ${p}`, filter.sim);
  if (filter.customerId !== undefined) add((p) => `m.customer_id = ${p}`, filter.customerId);
  if (filter.phones !== undefined) add((p) => `m.phone = ANY(${p}::text[])`, filter.phones);
  return { where: predicates.join(' AND '), params };
}
