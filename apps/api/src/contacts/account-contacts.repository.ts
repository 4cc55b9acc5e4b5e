import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/**
 * What an account already keeps, read inside the transaction that adds to it: savecontact, the tags and
 * the contacts import check their tag and count their caps here, under one and the same account lock.
 */
@Injectable()
export class AccountContactsRepository {
  async tagBelongsTo(tx: EntityManager, tagId: number, accountId: number): Promise<boolean> {
    const rows: unknown[] = await tx.query(`SELECT 1 FROM tags WHERE id = $1 AND user_id = $2`, [
      tagId,
      accountId,
    ]);
    return rows.length > 0;
  }

  /**
   * Rows the account keeps in `table`, counted up to `cap`. The account's row stays locked to the
   * transaction's end, so that concurrent saves and imports count against one cap.
   */
  async lockAndCountKept(
    tx: EntityManager,
    accountId: number,
    table: 'contacts' | 'tags',
    cap: number,
  ): Promise<number> {
    await tx.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [accountId]);
    const [{ count }]: Array<{ count: number }> = await tx.query(
      `SELECT count(*)::int AS count FROM (SELECT 1 FROM ${table} WHERE user_id = $1 LIMIT $2) AS kept`,
      [accountId, cap],
    );
    return count;
  }

  /** How many of `phones` (distinct) the account keeps no contact for yet. */
  async countUnknown(tx: EntityManager, accountId: number, phones: string[]): Promise<number> {
    const [{ unknown }]: Array<{ unknown: number }> = await tx.query(
      `SELECT count(*)::int AS unknown FROM unnest($2::text[]) AS p(phone)
        WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = $1 AND c.phone = p.phone)`,
      [accountId, phones],
    );
    return unknown;
  }
}
