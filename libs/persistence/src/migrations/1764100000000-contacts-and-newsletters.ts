import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tags, contacts (one per phone and account, carrying any number of tags) and newsletters ("pakets"). */
export class ContactsAndNewsletters1764100000000 implements MigrationInterface {
  name = 'ContactsAndNewsletters1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tags (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        title varchar(255) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX tags_user_id_id ON tags (user_id, id)`);
    await db.query(`
      CREATE TABLE contacts (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        phone varchar(32) NOT NULL,
        sendto varchar(64) NOT NULL,
        name varchar(255) NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        -- saving the same number again adds a tag to the same contact: a newsletter reaches it once
        CONSTRAINT contacts_user_phone UNIQUE (user_id, phone)
      )`);
    await db.query(`
      CREATE TABLE contact_tags (
        tag_id int NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        contact_id int NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        PRIMARY KEY (tag_id, contact_id)
      )`);
    await db.query(`
      CREATE TABLE newsletters (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device_id int NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        title varchar(255) NOT NULL,
        body text NOT NULL,
        sim smallint NOT NULL,
        tag_ids int[] NOT NULL,
        time_to_send timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- set when the scheduler turned it into messages
        expanded_at timestamptz,
        message_count int
      )`);
    await db.query(`CREATE INDEX newsletters_due ON newsletters (time_to_send) WHERE expanded_at IS NULL`);
    await db.query(
      `ALTER TABLE messages ADD COLUMN newsletter_id int REFERENCES newsletters(id) ON DELETE SET NULL`,
    );
    // Each recipient once per newsletter, however often an expansion is retried.
    await db.query(
      `CREATE UNIQUE INDEX messages_newsletter_phone ON messages (newsletter_id, phone) WHERE newsletter_id IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_newsletter_phone`);
    await db.query(`ALTER TABLE messages DROP COLUMN newsletter_id`);
    await db.query(`DROP TABLE newsletters`);
    await db.query(`DROP TABLE contact_tags`);
    await db.query(`DROP TABLE contacts`);
    await db.query(`DROP TABLE tags`);
  }
}
