import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ContactRow } from './contact-rows';

/** The SQL of a contacts import: each statement takes the whole chunk, whatever its length. */
@Injectable()
export class ContactImportRepository {
  async tagBelongsTo(tx: EntityManager, tagId: number, accountId: number): Promise<boolean> {
    const rows: unknown[] = await tx.query(`SELECT 1 FROM tags WHERE id = $1 AND user_id = $2`, [
      tagId,
      accountId,
    ]);
    return rows.length > 0;
  }

  /** Held to the transaction's end, so that concurrent imports and savecontact count against one cap. */
  async lockAccount(tx: EntityManager, accountId: number): Promise<void> {
    await tx.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [accountId]);
  }

  /** Contacts the account keeps (up to `cap`), and how many of `phones` it does not know yet. */
  async countKeptAndNew(
    tx: EntityManager,
    accountId: number,
    phones: string[],
    cap: number,
  ): Promise<{ kept: number; unknown: number }> {
    const [counts]: Array<{ kept: number; unknown: number }> = await tx.query(
      `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM contacts WHERE user_id = $1 LIMIT $3) AS k) AS kept,
              (SELECT count(*)::int FROM unnest($2::text[]) AS p(phone)
                WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = $1 AND c.phone = p.phone)) AS unknown`,
      [accountId, phones, cap],
    );
    return counts;
  }

  /**
   * Every row saved (a known number takes the new name when one is given, as savecontact does) and given
   * the tag; answers how many numbers were new.
   */
  async saveTagged(tx: EntityManager, accountId: number, tagId: number, rows: ContactRow[]): Promise<number> {
    const [{ created }]: Array<{ created: number }> = await tx.query(
      `WITH saved AS (
         INSERT INTO contacts (user_id, phone, sendto, name)
         SELECT $1, phone, sendto, name FROM unnest($2::text[], $3::text[], $4::text[]) AS r(phone, sendto, name)
         ON CONFLICT (user_id, phone) DO UPDATE
            SET sendto = EXCLUDED.sendto,
                name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE contacts.name END
         RETURNING id, (xmax = 0) AS created
       ), tagged AS (
         INSERT INTO contact_tags (tag_id, contact_id) SELECT $5, id FROM saved ON CONFLICT DO NOTHING
       )
       SELECT count(*) FILTER (WHERE created)::int AS created FROM saved`,
      [
        accountId,
        rows.map((row) => row.recipient.phone),
        rows.map((row) => row.recipient.sendto),
        rows.map((row) => row.name),
        tagId,
      ],
    );
    return created;
  }
}
