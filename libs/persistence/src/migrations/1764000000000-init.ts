import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1764000000000 implements MigrationInterface {
  name = 'Init1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // Secrets of this installation, generated here so that no two installations share one.
    await db.query(`
      CREATE TABLE instance_secrets (
        name varchar(64) PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `INSERT INTO instance_secrets (name, value)
       VALUES ('api_token', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))`,
    );
    await db.query(`
      CREATE TABLE users (
        id serial PRIMARY KEY,
        email varchar(254) NOT NULL UNIQUE,
        password_hash text NOT NULL,
        timezone varchar(64) NOT NULL DEFAULT 'UTC',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE api_tokens (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        version int NOT NULL,
        token_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await db.query(
      `CREATE UNIQUE INDEX api_tokens_one_active_per_user ON api_tokens (user_id) WHERE revoked_at IS NULL`,
    );
    await db.query(`
      CREATE TABLE devices (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        title varchar(255) NOT NULL DEFAULT '',
        secret_hash char(64) NOT NULL,
        imei varchar(64),
        serial_number varchar(128),
        app_version varchar(64),
        sim_info jsonb NOT NULL DEFAULT '[]'::jsonb,
        delay_between_sms int NOT NULL DEFAULT 0,
        send_window int,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz
      )`);
    await db.query(`CREATE INDEX devices_user_id_id ON devices (user_id, id)`);
    await db.query(`
      CREATE TABLE messages (
        id bigserial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device_id int NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        sendto varchar(64) NOT NULL,
        phone varchar(32) NOT NULL,
        body text NOT NULL,
        sim smallint NOT NULL,
        urgent boolean NOT NULL DEFAULT false,
        customer_id bigint,
        time_to_send timestamptz NOT NULL,
        valid_until timestamptz NOT NULL,
        status smallint NOT NULL DEFAULT 1,
        status_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        enqueued_at timestamptz,
        taken_at timestamptz,
        sent_at timestamptz,
        delivered_at timestamptz,
        failed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The list filters of getallsms: every one starts with the tenant.
    await db.query(`CREATE INDEX messages_user_id ON messages (user_id, id)`);
    await db.query(`CREATE INDEX messages_user_device ON messages (user_id, device_id, id)`);
    await db.query(`CREATE INDEX messages_user_status ON messages (user_id, status, id)`);
    await db.query(`CREATE INDEX messages_user_created ON messages (user_id, created_at)`);
    await db.query(`CREATE INDEX messages_user_phone ON messages (user_id, phone)`);
    await db.query(
      `CREATE INDEX messages_user_customer ON messages (user_id, customer_id) WHERE customer_id IS NOT NULL`,
    );
    // The outbox: accepted, not yet in a queue (scheduled for later, or the API died before enqueueing).
    await db.query(
      `CREATE INDEX messages_outbox ON messages (time_to_send) WHERE enqueued_at IS NULL AND status = 1`,
    );
    await db.query(`
      CREATE TABLE message_events (
        id bigserial PRIMARY KEY,
        message_id bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        status smallint NOT NULL,
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        error text,
        CONSTRAINT message_events_once UNIQUE (message_id, status)
      )`);
    // Mirrors statusRank() in libs/contracts: a message only ever moves to a higher rank.
    await db.query(`
      CREATE FUNCTION message_status_rank(s smallint) RETURNS smallint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN s = 1 THEN 0
          WHEN s = 3 THEN 1
          WHEN s = 2 THEN 2
          WHEN s = 6 THEN 3
          WHEN s IN (5, 7, 8, 9, 10, 11, 12, 100, 101, 201, 202) THEN 4
          ELSE 0
        END::smallint
      $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION message_status_rank(smallint)`);
    await db.query(`DROP TABLE message_events`);
    await db.query(`DROP TABLE messages`);
    await db.query(`DROP TABLE devices`);
    await db.query(`DROP TABLE api_tokens`);
    await db.query(`DROP TABLE users`);
    await db.query(`DROP TABLE instance_secrets`);
  }
}
