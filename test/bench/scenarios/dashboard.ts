import { storeClosedHours } from '@smsfleet/persistence';
import { BenchSystem } from '../../harness/bench-system';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { percentile, round } from '../stats';

const PAGE = 50;
const SAMPLES = 40;
const DEVICES = 4;
/** The messages span a week: the overview's 7-day chart reads every one of them. */
const SPAN_DAYS = 7;
const PAGE_TARGET_MS = 200;
const CHART_TARGET_MS = 300;

/**
 * Inserts `count` messages for the account in one statement: a week of history over four phones, a hundred
 * thousand distinct recipients. As in a running system, what is older than two days (the default message
 * validity plus report timeout) has a final status, mostly delivered; the last two days also hold messages
 * waiting and under way.
 */
async function seedHistory(
  system: BenchSystem,
  userId: number,
  deviceIds: number[],
  count: number,
): Promise<void> {
  await system.db().query(
    `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, status, created_at, time_to_send, valid_until,
                           enqueued_at, sent_at, delivered_at, failed_at)
     SELECT $1, ($2::int[])[1 + i % array_length($2::int[], 1)], p, p, 'dashboard benchmark ' || i, i % 2,
            s, at, at, at + interval '1 day', at,
            CASE WHEN s IN (6, 7, 8) THEN at + interval '2 seconds' END,
            CASE WHEN s = 7 THEN at + interval '5 seconds' END,
            CASE WHEN s IN (8, 9, 202) THEN at + interval '5 seconds' END
       FROM generate_series(1, $3::int) AS i,
            LATERAL (SELECT now() - make_interval(secs => ($4::float8 * 86400 * ($3::int - i)) / $3::int) AS at,
                            '+49157' || (10000000 + i % 100000) AS p) AS row,
            LATERAL (SELECT (CASE WHEN i % 100 < 90 THEN 7 WHEN i % 100 < 94 THEN 9 WHEN i % 100 < 96 THEN 202
                                  WHEN at < now() - interval '2 days' THEN 7
                                  WHEN i % 100 < 98 THEN 6 ELSE 1 END)::smallint AS s) AS state`,
    [userId, deviceIds, count, SPAN_DAYS],
  );
  // What autovacuum does after a load like this; index-only scans need the visibility map.
  await system.db().query('VACUUM ANALYZE messages');
  // And what the checkpointer does within minutes: a week of history is not dirty in shared buffers.
  // Without it the first read after the seed evicts the seed's dirty pages itself (EXPLAIN's "written")
  // while the host writes them back, and times that rather than the chart.
  await system.db().query('CHECKPOINT');
}

async function timed(url: string, token: string): Promise<{ ms: number; body: Record<string, unknown> }> {
  const start = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as Record<string, unknown>;
  const ms = performance.now() - start;
  if (body.error !== 0) throw new Error(`${url}: ${JSON.stringify(body).slice(0, 300)}`);
  return { ms, body };
}

async function p95Of(samples: number, run: (i: number) => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push(await run(i));
  return round(percentile(times, 95));
}

/**
 * The dashboard's reads over an account with a million messages: the Messages page's first answer and
 * its next pages (keyset), filtered or not, and the Overview's chart over 7 days and 24 hours. The
 * baseline is the compatible API's own way to the same page: getallsms with limit and offset.
 */
export const dashboard: Scenario = {
  name: 'dashboard',
  description: 'the dashboard’s messages pages and overview chart over 1,000,000 messages',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('dashboard');
    const total = scaled(1_000_000, context, 2_000);
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api']);
      const account = system.createAccount();
      const phones = await system.registerPhones(account, DEVICES);
      const [{ id: userId }] = (await system.db().query<{ id: number }>('SELECT id FROM users')).rows;
      progress.update(`seeding ${total} messages over ${SPAN_DAYS} days`, true);
      const seedStart = Date.now();
      await seedHistory(
        system,
        userId,
        phones.map((p) => p.deviceId),
        total,
      );
      const seedSeconds = (Date.now() - seedStart) / 1_000;
      // What the scheduler's hour roll-up does within a minute of the seed (HourRollupService): store the
      // counts of the closed hours whose messages are all final. Run here, on the same statement, rather
      // than by a scheduler whose other sweeps would move the seed's waiting messages while pages are timed.
      // The first round reads the week; the next only the hours still open (the last two days).
      // BENCH_HOUR_ROLLUP=off leaves it out: the first request then counts every hour, as before it.
      const rollUp = process.env.BENCH_HOUR_ROLLUP !== 'off';
      const rows = {
        query: async (sql: string, params?: unknown[]) => (await system.db().query(sql, params)).rows,
      };
      const timedRollup = async () => {
        const start = performance.now();
        const stored = await storeClosedHours(rows, userId);
        return { stored, ms: round(performance.now() - start) };
      };
      if (rollUp) progress.update('rolling up the closed hours as the scheduler does', true);
      const rollupFirst = rollUp ? await timedRollup() : null;
      const rollupNext = rollUp ? await timedRollup() : null;
      const api = system.apiUrl;
      const token = account.token;
      const samples = Math.min(SAMPLES, Math.max(5, Math.round(SAMPLES * Math.sqrt(context.scale))));
      // Warm the API's connections and PostgreSQL's caches the way a page open does.
      for (let i = 0; i < 3; i++) await timed(`${api}/v1/messages?limit=${PAGE}`, token);

      progress.update('messages: first pages', true);
      const first = await p95Of(
        samples,
        async () => (await timed(`${api}/v1/messages?limit=${PAGE}`, token)).ms,
      );
      const firstFiltered = await p95Of(samples, async (i) => {
        const filter = [
          `status=9`,
          `device_id=${phones[i % DEVICES].deviceId}`,
          `phone=%2B49157${10_000_000 + ((i * 7_919) % 100_000)}`,
          `status=1&device_id=${phones[i % DEVICES].deviceId}`,
        ][i % 4];
        return (await timed(`${api}/v1/messages?limit=${PAGE}&${filter}`, token)).ms;
      });

      progress.update('messages: next pages, from the newest to the oldest', true);
      const [{ min, max }] = (
        await system.db().query<{ min: string; max: string }>('SELECT min(id), max(id) FROM messages')
      ).rows;
      const span = Number(max) - Number(min);
      const next = await p95Of(samples, async (i) => {
        // Each sample one step deeper: a page right after the cursor of a page anywhere in the history.
        const cursor = Buffer.from(`m:${Number(max) - Math.floor((span * i) / samples)}`).toString(
          'base64url',
        );
        return (await timed(`${api}/v1/messages?limit=${PAGE}&cursor=${cursor}`, token)).ms;
      });
      let cursor: string | null = null;
      const walk = await p95Of(samples, async () => {
        const answer = await timed(
          `${api}/v1/messages?limit=${PAGE}&status=7${cursor ? `&cursor=${cursor}` : ''}`,
          token,
        );
        cursor = answer.body.next_cursor as string | null;
        return answer.ms;
      });

      progress.update('overview: the 7-day and 24-hour charts', true);
      // The first request reads the stored hours and counts the others (the last two days); later ones
      // keep the closed hours in memory and count only those that may still change (HourlyCounts).
      const weekFirst = round((await timed(`${api}/v1/overview?range=7d`, token)).ms);
      const week = await p95Of(
        Math.max(5, samples / 2),
        async () => (await timed(`${api}/v1/overview?range=7d`, token)).ms,
      );
      const day = await p95Of(
        Math.max(5, samples / 2),
        async () => (await timed(`${api}/v1/overview?range=24h`, token)).ms,
      );

      progress.update('baseline: getallsms with limit and offset at the same depths', true);
      const baselineSamples = Math.max(3, Math.round(samples / 4));
      const offsetPage = await p95Of(baselineSamples, async (i) => {
        const offset = Math.min(total - PAGE, Math.floor((total * i) / baselineSamples));
        return (await timed(`${api}/getdata/getallsms?limit=${PAGE}&offset=${offset}&orderbydesc=1`, token))
          .ms;
      });

      const pages = Math.max(first, firstFiltered, next, walk);
      const met = context.scale >= 1 ? pages <= PAGE_TARGET_MS && week <= CHART_TARGET_MS : null;
      progress.done(
        `pages p95 ${pages} ms, 7-day chart p95 ${week} ms (first ${weekFirst} ms), getallsms by offset ${offsetPage} ms`,
      );
      return {
        scenario: this.name,
        description: this.description,
        baseline: {
          label: 'getallsms, limit + offset at the same depths, p95',
          value: offsetPage,
          unit: 'ms',
        },
        system: { label: '/v1/messages pages, worst p95', value: pages, unit: 'ms' },
        ratio: round(pages / offsetPage, 3),
        target: `messages pages ≤ ${PAGE_TARGET_MS} ms p95, overview chart ≤ ${CHART_TARGET_MS} ms p95`,
        met,
        details: {
          messages: total,
          'seconds to seed them': round(seedSeconds, 1),
          'first page p95 ms': first,
          'first page, filtered (status, device, phone), p95 ms': firstFiltered,
          'next page at any depth p95 ms': next,
          'walking pages of status 7 p95 ms': walk,
          'hours stored by the roll-up (BENCH_HOUR_ROLLUP=off: none)': rollupFirst?.stored ?? 0,
          'roll-up, first round (the week) ms': rollupFirst?.ms ?? 'off',
          'roll-up, next round (hours still open) ms': rollupNext?.ms ?? 'off',
          'overview 7 days, first request (stored hours + the open ones) ms': weekFirst,
          'overview 7 days p95 ms': week,
          'overview 24 hours p95 ms': day,
          samples,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
