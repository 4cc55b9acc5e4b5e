import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import {
  BrowsedMessageRow,
  browseOne,
  browsePage,
  MessageEventRow,
  messageEvents,
} from '@smsfleet/persistence';
import { MessageFilter } from './message-filter';

/** /v1/messages: the caller's messages by keyset (id). The SQL is in libs/persistence/src/messages/listing.ts. */
@Injectable()
export class MessageBrowseRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Up to `limit` + 1 rows after the cursor: the extra one only says whether a next page exists. */
  page(
    account: Account,
    filter: MessageFilter,
    after: number | undefined,
    limit: number,
  ): Promise<BrowsedMessageRow[]> {
    return browsePage(this.db, account.id, filter, after, limit);
  }

  one(account: Account, id: number): Promise<BrowsedMessageRow | undefined> {
    return browseOne(this.db, account.id, id);
  }

  /** The message's history; the caller has already found the message among the account's. */
  events(messageId: number): Promise<MessageEventRow[]> {
    return messageEvents(this.db, messageId);
  }
}
