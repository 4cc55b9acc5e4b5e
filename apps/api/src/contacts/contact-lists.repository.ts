import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { newsletterProgress } from '@smsfleet/persistence';

export interface TagRow {
  id: number;
  title: string;
  contacts: number;
}

export interface ContactRow {
  id: number;
  sendto: string;
  name: string;
  tag_ids: number[];
}

export interface NewsletterRow {
  id: number;
  title: string;
  body: string;
  device_id: number;
  sim: number;
  tag_ids: number[];
  time_to_send: Date;
  expanded_at: Date | null;
  message_count: number | null;
}

/** Tags, contacts and newsletters of one account, for reading. */
@Injectable()
export class ContactListsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async tags(account: Account): Promise<TagRow[]> {
    return this.db.query(
      `SELECT t.id, t.title, (SELECT count(*)::int FROM contact_tags ct WHERE ct.tag_id = t.id) AS contacts
         FROM tags t WHERE t.user_id = $1 ORDER BY t.id`,
      [account.id],
    );
  }

  /** A page of contacts (by id, after `after`), optionally those carrying one tag. */
  async contacts(
    account: Account,
    tagId: number | undefined,
    after: number,
    limit: number,
  ): Promise<ContactRow[]> {
    const params: unknown[] = [account.id, after, limit];
    const tagged =
      tagId === undefined
        ? ''
        : ` AND EXISTS (SELECT 1 FROM contact_tags x WHERE x.contact_id = c.id AND x.tag_id = $${params.push(tagId)})`;
    return this.db.query(
      `SELECT c.id, c.sendto, c.name,
              COALESCE((SELECT array_agg(ct.tag_id ORDER BY ct.tag_id) FROM contact_tags ct WHERE ct.contact_id = c.id), '{}') AS tag_ids
         FROM contacts c WHERE c.user_id = $1 AND c.id > $2${tagged} ORDER BY c.id LIMIT $3`,
      params,
    );
  }

  async newsletters(account: Account, limit: number): Promise<NewsletterRow[]> {
    return this.db.query(
      `SELECT id, title, body, device_id, sim, tag_ids, time_to_send, expanded_at, message_count
         FROM newsletters WHERE user_id = $1 ORDER BY id DESC LIMIT $2`,
      [account.id, limit],
    );
  }

  /** Messages of these newsletters (the account's) by status. */
  newsletterProgress(
    account: Account,
    ids: number[],
  ): Promise<Array<{ newsletter_id: number; status: number; count: number }>> {
    return newsletterProgress(this.db, account.id, ids);
  }
}
