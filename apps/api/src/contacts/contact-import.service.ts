import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { ApiError } from '../common/api-error';
import { AccountContactsRepository } from './account-contacts.repository';
import { ContactImportRepository } from './contact-import.repository';
import { ContactRow } from './contact-rows';

export interface ImportResult {
  /** Numbers saved with the tag (a number given twice counts once). */
  saved: number;
  /** Of those, numbers the account did not know before. */
  created: number;
}

/**
 * A chunk of contacts saved with one tag in one transaction: all of it or none (the cap on contacts is
 * counted for the whole chunk, with the account's row locked as savecontact does).
 */
@Injectable()
export class ContactImportService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly kept: AccountContactsRepository,
    private readonly contacts: ContactImportRepository,
  ) {}

  async importTagged(account: Account, tagId: number, rows: ContactRow[]): Promise<ImportResult> {
    return this.db.transaction(async (tx) => {
      if (!(await this.kept.tagBelongsTo(tx, tagId, account.id)))
        throw ApiError.notFound(`tag ${tagId} not found among your tags`);
      const cap = this.config.contacts.maxPerAccount;
      const kept = await this.kept.lockAndCountKept(tx, account.id, 'contacts', cap);
      const phones = rows.map((row) => row.recipient.phone);
      const unknown = await this.kept.countUnknown(tx, account.id, phones);
      if (kept + unknown > cap)
        throw ApiError.validation(
          `the account keeps ${kept} contacts and this import adds ${unknown} new numbers, more than the ` +
            `${cap} allowed; nothing was saved`,
        );
      const created = await this.contacts.saveTagged(tx, account.id, tagId, rows);
      return { saved: rows.length, created };
    });
  }
}
