-- Seeds 1,000,000 messages (one big account with 800,000 of them, 20 small ones) into the database this
-- runs in (after the migrations) and shows how getallsms's queries are served. Run on a scratch database:
--   createdb -h 127.0.0.1 -U postgres smsfleet_explain && DATABASE_URL=postgres://postgres@127.0.0.1:5432/smsfleet_explain npm run migration:run
--   psql -h 127.0.0.1 -U postgres smsfleet_explain -f scripts/explain-getallsms.sql
\timing on
INSERT INTO users (email, password_hash) SELECT 'u' || g || '@example.com', 'x' FROM generate_series(1, 21) g;
INSERT INTO devices (user_id, title, secret_hash) SELECT 1 + (g % 21), 'd' || g, repeat('0', 64) FROM generate_series(1, 210) g;
INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, urgent, customer_id, time_to_send, valid_until, status, created_at, enqueued_at, sent_at)
SELECT u, d, p, p, 'hello', g % 2, g % 50 = 0, CASE WHEN g % 3 = 0 THEN g % 49999 END, c, c + interval '1 day',
       CASE WHEN g % 101 = 0 THEN 9 WHEN g % 1009 = 1 THEN 1 ELSE 7 END, c, c, c
  FROM (SELECT g,
               -- primes, so that no filter's values line up with the account
               CASE WHEN g % 97 < 19 THEN 2 + (g % 20) ELSE 1 END AS u,
               '+49157' || lpad((g % 199999)::text, 7, '0') AS p,
               timestamptz '2025-11-25' + (g * interval '31 seconds') AS c
          FROM generate_series(1, 1000000) g) s
  JOIN LATERAL (SELECT id AS d FROM devices WHERE user_id = s.u ORDER BY id OFFSET ((s.g / 7) % 10) LIMIT 1) dd ON true;
VACUUM ANALYZE messages;

-- The account with 800,000 messages: each filter, the page (LIMIT 1000) and the count.
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT m.id FROM messages m LEFT JOIN newsletters n ON n.id = m.newsletter_id WHERE m.user_id = 1 ORDER BY m.id DESC LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 1;
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.device_id = (SELECT id FROM devices WHERE user_id = 1 ORDER BY id OFFSET 3 LIMIT 1) ORDER BY m.id LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 1 AND m.device_id = (SELECT id FROM devices WHERE user_id = 1 ORDER BY id OFFSET 3 LIMIT 1);
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.status = 9 ORDER BY m.id DESC LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 1 AND m.status = 9;
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.created_at >= '2026-03-01' AND m.created_at < '2026-03-02' ORDER BY m.id LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 1 AND m.created_at >= '2026-03-01' AND m.created_at < '2026-03-02';
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.phone = ANY(ARRAY['+491570012345']) ORDER BY m.id LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 1 AND m.phone = ANY(ARRAY['+491570012345']);
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.customer_id = 12345 ORDER BY m.id LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 1 AND m.customer_id = 12345;
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.sim = 1 ORDER BY m.id DESC LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 1 AND m.sim = 1;
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.status = 9 AND m.created_at >= '2026-03-01' AND m.created_at < '2026-04-01' ORDER BY m.id LIMIT 1000;
-- A small account among the big one: never a scan of the big one's rows.
EXPLAIN (ANALYZE, COSTS OFF) SELECT m.id FROM messages m WHERE m.user_id = 7 ORDER BY m.id DESC LIMIT 1000;
EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM messages m WHERE m.user_id = 7 AND m.status = 7;
