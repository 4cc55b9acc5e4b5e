import fc from 'fast-check';
import { reportFigure } from '../helpers/figures';
import { Account, TestSystem } from '../harness/test-system';

const RUNS = 400;
const EVENTS = [
  'message.taken',
  'message.sent',
  'message.delivered',
  'message.failed',
  'message.incoming',
  'device.online',
  'device.offline',
];
const ERROR_CODES = ['validation', 'not_found', 'payload_too_large', 'rate_limited', 'invalid_token'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constantFrom(...EVENTS))),
);
const url = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom(
    'https://example.com/hook',
    'http://127.0.0.1:1/x',
    'http://[::ffff:127.0.0.1]/',
    'ftp://example.com/',
    'https://user:pw@example.com/',
    `https://example.com/${'a'.repeat(2_100)}`,
  ),
  fc.string(),
  anyValue,
);
const events = fc.oneof(
  fc.subarray(EVENTS, { minLength: 1 }),
  fc.subarray(EVENTS).map((list) => list.join(',')),
  fc.array(fc.string()),
  anyValue,
);
const field = fc.constantFrom(
  'url',
  'events',
  'device_ids',
  'description',
  'batch_size',
  'paused',
  'grace_seconds',
  '__proto__',
  'constructor',
  'id',
  'secret',
  'user_id',
  '',
);
/** Bodies from plausible to absurd: near-valid subscriptions, any JSON object, any JSON value. */
const body = fc.oneof(
  fc.record(
    {
      url: fc.webUrl(),
      events: fc.subarray(EVENTS, { minLength: 1 }),
      description: fc.string({ maxLength: 600 }),
      paused: fc.boolean(),
    },
    { requiredKeys: ['url', 'events'] },
  ),
  fc.record(
    {
      url,
      events,
      device_ids: fc.oneof(fc.array(fc.integer()), anyValue),
      description: fc.oneof(fc.string({ maxLength: 600 }), anyValue),
      batch_size: fc.oneof(fc.integer({ min: -5, max: 120 }), anyValue),
      paused: fc.oneof(fc.boolean(), anyValue),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.oneof(field, fc.string()), anyValue),
  fc.jsonValue(),
);

/**
 * Hostile input on the subscription routes (issue 20): arbitrary JSON bodies for POST /v1/webhooks and
 * POST /v1/webhooks/:id get a 200 or a 4xx in the API's format, never a 5xx, and a refused request
 * writes nothing (rows counted, and the updated row compared, before and after).
 */
describe('webhooks: hostile input on the subscription routes', () => {
  let system: TestSystem;
  let account: Account;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    system = await TestSystem.start(['api']);
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
  });

  async function call(
    method: string,
    path: string,
    payload: string,
  ): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${system.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
      body: payload,
    });
    const text = await response.text();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    let parsed: Json;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(
        `${method} ${path}: ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    return { status: response.status, body: parsed };
  }

  /** A 4xx in the API's format: error set, a known code, a message; no stack trace. */
  function expectRefusal(answer: { status: number; body: Json }): void {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body.error).not.toBe(0);
    expect(ERROR_CODES).toContain(answer.body.code);
    expect(typeof answer.body.message).toBe('string');
    expect(JSON.stringify(answer.body)).not.toMatch(/at \S+ \(|node_modules/);
  }

  const snapshot = async () =>
    (
      await system.query<{ rows: string }>(
        `SELECT coalesce(json_agg(w ORDER BY id), '[]')::text AS rows
           FROM (SELECT id, url, description, events, device_ids, batch_size, secret, paused, disabled_at, updated_at
                   FROM webhooks) w`,
      )
    )[0].rows;

  it('POST /v1/webhooks: 200 or a clear 4xx, never a 5xx; a refused one stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const before = await snapshot();
        const answer = await call('POST', '/v1/webhooks', JSON.stringify(payload));
        if (answer.status === 200) {
          expect(answer.body.webhook.secret).toEqual(expect.any(String));
          const id = answer.body.webhook.id as number;
          const rows = await system.query<{ url: string }>(`SELECT url FROM webhooks WHERE id = $1`, [id]);
          // Removed before judging, so that a failing case (and its shrinking) leaves nothing behind.
          expect((await call('DELETE', `/v1/webhooks/${id}`, '{}')).status).toBe(200);
          // Stored as written, in the URL parser's normal form.
          expect(rows).toEqual([{ url: new URL((payload as Json).url as string).href }]);
        } else {
          expectRefusal(answer);
          expect(await snapshot()).toBe(before);
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('POST /v1/webhooks/:id: 200 or a clear 4xx, never a 5xx; a refused one changes nothing', async () => {
    const created = await call(
      'POST',
      '/v1/webhooks',
      JSON.stringify({ url: 'https://example.com/hook', events: ['message.sent'] }),
    );
    expect(created.status).toBe(200);
    const id = created.body.webhook.id as number;
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const before = await snapshot();
        const answer = await call('POST', `/v1/webhooks/${id}`, JSON.stringify(payload));
        if (answer.status !== 200) {
          expectRefusal(answer);
          expect(await snapshot()).toBe(before);
        }
        expect(await system.query(`SELECT id FROM webhooks`)).toEqual([{ id }]);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('bodies that are not JSON are refused with a 4xx and store nothing', async () => {
    const before = await snapshot();
    for (const raw of ['{', 'url=https://example.com', '\u0000', '[1,', '"', 'null', '']) {
      const answer = await call('POST', '/v1/webhooks', raw);
      expectRefusal(answer);
    }
    expect(await snapshot()).toBe(before);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    reportFigure('webhooks-hostile', Object.fromEntries([...statuses].map(([s, n]) => [`http${s}`, n])));
  });
});
