import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { ApiError } from '../common/api-error';
import { Recipient } from '../messages/recipients';

/** Tags and contacts: the audience of newsletters. */
@Injectable()
export class ContactsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async createTag(account: Account, title: string): Promise<number> {
    const [{ id }]: Array<{ id: number }> = await this.db.query(
      `INSERT INTO tags (user_id, title) VALUES ($1, $2) RETURNING id`,
      [account.id, title],
    );
    return id;
  }

  /**
   * One contact per number and account: saving a known number again gives it one more tag (and the new
   * name, if one is given), so a newsletter to several of its tags still reaches it once.
   */
  async saveContact(account: Account, recipient: Recipient, tagId: number, name: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const tag: unknown[] = await tx.query(`SELECT 1 FROM tags WHERE id = $1 AND user_id = $2`, [
        tagId,
        account.id,
      ]);
      if (tag.length === 0) throw ApiError.notFound(`tag ${tagId} not found among your tags`);
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
}
