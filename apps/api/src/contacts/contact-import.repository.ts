import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ContactRow } from './contact-rows';

/** The SQL of a contacts import: each statement takes the whole chunk, whatever its length. */
@Injectable()
export class ContactImportRepository {
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
