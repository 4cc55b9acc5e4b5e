import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { ApiError } from '../common/api-error';
import { Recipient } from '../messages/recipients';
import { AccountContactsRepository } from './account-contacts.repository';

/** Tags and contacts: the audience of newsletters. */
@Injectable()
export class ContactsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly kept: AccountContactsRepository,
  ) {}

  /** A new tag must fit TAGS_MAX_PER_ACCOUNT (counted with the account's row locked). */
  async createTag(account: Account, title: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const cap = this.config.contacts.maxTagsPerAccount;
      if ((await this.kept.lockAndCountKept(tx, account.id, 'tags', cap)) >= cap)
        throw ApiError.validation(`the account keeps ${cap} tags, the most allowed; no new tag can be saved`);
      const [{ id }]: Array<{ id: number }> = await tx.query(
        `INSERT INTO tags (user_id, title) VALUES ($1, $2) RETURNING id`,
        [account.id, title],
      );
      return id;
    });
  }

  /**
   * One contact per number and account: saving a known number again gives it one more tag (and the new
   * name, if one is given), so a newsletter to several of its tags still reaches it once. A new number
   * must fit CONTACTS_MAX_PER_ACCOUNT (counted with the account's row locked).
   */
  async saveContact(account: Account, recipient: Recipient, tagId: number, name: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      if (!(await this.kept.tagBelongsTo(tx, tagId, account.id)))
        throw ApiError.notFound(`tag ${tagId} not found among your tags`);
      await this.assertRoomFor(tx, account, recipient);
      const [{ id }]: Array<{ id: number }> = await tx.query(
        `INSERT INTO contacts (user_id, phone, sendto, name) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, phone) DO UPDATE
            SET sendto = EXCLUDED.sendto,
                name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE contacts.name END
         RETURNING id`,
        [account.id, recipient.phone, recipient.sendto, name],
      );
      await tx.query(`INSERT INTO contact_tags (tag_id, contact_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        tagId,
        id,
      ]);
      return id;
    });
  }

  private async assertRoomFor(tx: EntityManager, account: Account, recipient: Recipient): Promise<void> {
    if ((await this.kept.countUnknown(tx, account.id, [recipient.phone])) === 0) return;
    const cap = this.config.contacts.maxPerAccount;
    if ((await this.kept.lockAndCountKept(tx, account.id, 'contacts', cap)) >= cap)
      throw ApiError.validation(
        `the account keeps ${cap} contacts, the most allowed; no new number can be saved`,
      );
  }
}
