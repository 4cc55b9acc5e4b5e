import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { countMatching, listPage, MessageListRow } from '@smsfleet/persistence';
import { MAX_LIST_DEPTH, MessageFilter } from './message-filter';

/** getallsms: the caller's messages by filter, in id order, one page at a time, with the count of all matches. */
@Injectable()
export class MessageListService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Matches, counted up to MAX_LIST_DEPTH: a page's cost does not grow with the account's whole history. */
  count(account: Account, filter: MessageFilter): Promise<number> {
    return countMatching(this.db, account.id, filter, MAX_LIST_DEPTH);
  }

  page(account: Account, filter: MessageFilter): Promise<MessageListRow[]> {
    return listPage(this.db, account.id, filter, filter.limit, filter.offset);
  }
}
