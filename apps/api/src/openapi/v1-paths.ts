import type {
  OperationObject,
  ParameterObject,
  PathsObject,
  ResponseObject,
  SecurityRequirementObject,
} from '@nestjs/swagger';

/**
 * The JSON routes under /v1 that the web dashboard uses — the same a script calls with its token
 * (`Authorization: Bearer`) — with the usual HTTP statuses and the error body of every route.
 */
const AUTH: SecurityRequirementObject[] = [{ bearer: [] }, { session: [], csrf: [] }];

const json = (description: string, example: unknown): ResponseObject => ({
  description,
  content: { 'application/json': { example } },
});
const query = (name: string, type: 'string' | 'integer', description: string): ParameterObject => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type },
});
const idIn = (what: string): ParameterObject => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `The ${what}'s id (another account's answers 404, as one that does not exist).`,
  schema: { type: 'integer' },
});
const errors = {
  '400': json('Bad input; `message` names the field.', { error: 1, code: 'validation', message: '…' }),
  '401': json('No token or session, or a session request without its CSRF header.', {
    error: 1,
    code: 'invalid_token',
    message: '…',
  }),
};
const notFound = json('Not one of this account’s.', { error: 1, code: 'not_found', message: '…' });

const op = (
  tag: string,
  summary: string,
  response: ResponseObject,
  extra: Partial<OperationObject> = {},
) => ({
  tags: [tag],
  summary,
  security: AUTH,
  ...extra,
  responses: { '200': response, ...errors, ...(extra.responses ?? {}) },
});

/** What an operation on one resource by id adds: the id in the path, and 404 for one not the account's. */
const byId = (
  id: ParameterObject,
  { parameters = [], responses = {}, ...extra }: Partial<OperationObject> = {},
): Partial<OperationObject> => ({
  parameters: [id, ...parameters],
  ...extra,
  responses: { '404': notFound, ...responses },
});

/** `/v1/<resources>/{id}`: read one, change it (POST or PATCH, the same operation), delete it. */
const resourceById = (
  tag: string,
  id: ParameterObject,
  read: { summary: string; answer: ResponseObject },
  change: { summary: string; answer: ResponseObject; requestBody: OperationObject['requestBody'] },
  remove: { summary: string; answer: ResponseObject },
) => {
  const changeOp = () =>
    op(tag, change.summary, change.answer, byId(id, { requestBody: change.requestBody }));
  return {
    get: op(tag, read.summary, read.answer, byId(id)),
    post: changeOp(),
    patch: changeOp(),
    delete: op(tag, remove.summary, remove.answer, byId(id)),
  };
};

const ISO = '2026-12-06T09:00:00.000Z';
const MESSAGE = {
  id: 1842,
  sendto: '+4915752982212',
  body: 'Hello',
  customer_id: null,
  status: 7,
  status_title: 'Delivered',
  final: true,
  error: null,
  device_id: 12,
  pool_id: null,
  sim: 0,
  urgent: false,
  newsletter_id: null,
  created_at: ISO,
  time_to_send: ISO,
  taken_at: ISO,
  sent_at: ISO,
  delivered_at: ISO,
  failed_at: null,
};
const FILTERS: ParameterObject[] = [
  query('device_id', 'integer', 'One of your devices.'),
  query(
    'pool_id',
    'integer',
    'One of your pools: the messages sent to it (`pool_id` of each; null: sent to a device).',
  ),
  query('status', 'integer', 'A status code (docs/api.md).'),
  query('begindate', 'string', 'Created at or after (`YYYY-MM-DD[ HH:MM[:SS]]`, account time zone).'),
  query('enddate', 'string', 'Created at or before (a date alone: the whole day).'),
  query('sim', 'integer', 'SIM slot 0–5.'),
  query('customerid', 'integer', 'Your customer id.'),
  query('phone', 'string', 'A recipient, in any notation.'),
  query('order', 'string', '`desc` (newest first, default) or `asc`.'),
  query('limit', 'integer', 'Messages per page, 1–500 (default 50).'),
  query('cursor', 'string', 'The previous page’s `next_cursor` (opaque); absent: the first page.'),
];

const WEBHOOK = {
  id: 4,
  url: 'https://example.com/smsfleet',
  description: 'CRM',
  events: ['message.sent', 'message.delivered', 'message.failed'],
  device_ids: null,
  batch_size: 1,
  state: 'active',
  paused: false,
  disabled_at: null,
  disabled_reason: null,
  failing_since: null,
  previous_secret_expires_at: null,
  created_at: ISO,
  updated_at: ISO,
};
const WEBHOOK_EVENTS = [
  'message.taken',
  'message.sent',
  'message.delivered',
  'message.failed',
  'message.incoming',
  'device.online',
  'device.offline',
];
const webhookBody = (required: string[]) => ({
  content: {
    'application/json': {
      schema: {
        type: 'object' as const,
        required,
        properties: {
          url: {
            type: 'string' as const,
            description: 'http(s), absolute, ≤ 2,048 characters, no user:password, no #fragment',
          },
          events: {
            type: 'array' as const,
            items: { type: 'string' as const, enum: WEBHOOK_EVENTS },
            description: 'Also comma-separated text.',
          },
          device_ids: {
            type: 'array' as const,
            items: { type: 'integer' as const },
            description: 'Only events of these devices (yours); empty or absent: every device.',
          },
          description: { type: 'string' as const },
          batch_size: {
            type: 'integer' as const,
            minimum: 1,
            maximum: 100,
            description:
              'Events per POST (default 1). Above 1 the body is `{"events":[…]}`, up to this many, when more are due.',
          },
          paused: { type: 'boolean' as const, description: '`false` also resumes a disabled subscription.' },
        },
      },
    },
  },
});
const hookId = idIn('webhook');

const POOL = {
  id: 3,
  name: 'Shop phones',
  members: [
    { device_id: 12, title: 'Shop phone 1', online: true },
    { device_id: 14, title: 'Shop phone 2', online: false },
  ],
  online: 1,
  created_at: ISO,
  updated_at: ISO,
};
const poolAnswer = (description: string) => json(description, { error: 0, message: 'OK', pool: POOL });
const poolBody = (required: string[], properties: Array<'name' | 'device_ids'>) => ({
  content: {
    'application/json': {
      schema: {
        type: 'object' as const,
        required,
        properties: Object.fromEntries(
          properties.map((name) => [
            name,
            name === 'name'
              ? {
                  type: 'string' as const,
                  description: '1–100 characters; unique among your pools, whatever the case',
                }
              : {
                  type: 'array' as const,
                  items: { type: 'integer' as const },
                  description:
                    'Your devices (at most 1,000; also comma-separated text). A device is in one pool at most.',
                },
          ]),
        ),
      },
    },
  },
});
const poolId = idIn('pool');

/** Phone pools (ADR 2221): addsms and addalotofsms take `pool_id` in place of `device_id`. */
function poolPaths(): PathsObject {
  return {
    '/v1/pools': {
      post: op(
        'pools',
        'Create a pool of your phones, with a name and optionally its devices. At most 100 pools per account',
        poolAnswer('The new pool.'),
        { requestBody: poolBody(['name'], ['name', 'device_ids']) },
      ),
      get: op(
        'pools',
        'Your pools with their members and whether each is online',
        json('The pools.', { error: 0, message: 'OK', pools: [POOL] }),
      ),
    },
    '/v1/pools/{id}': resourceById(
      'pools',
      poolId,
      { summary: 'One pool', answer: poolAnswer('It.') },
      {
        summary: 'Rename a pool',
        answer: poolAnswer('The pool now.'),
        requestBody: poolBody(['name'], ['name']),
      },
      {
        summary: 'Delete a pool; its devices stay yours, in no pool',
        answer: json('Deleted.', { error: 0, message: 'OK', pool_id: 3 }),
      },
    ),
    '/v1/pools/{id}/devices': {
      post: op(
        'pools',
        'Add devices to a pool: all or none; a device of another account or already in another pool is refused',
        poolAnswer('The pool now.'),
        byId(poolId, { requestBody: poolBody(['device_ids'], ['device_ids']) }),
      ),
    },
    '/v1/pools/{id}/devices/remove': {
      post: op(
        'pools',
        'Remove devices from a pool: all or none (a device not in it answers 404)',
        poolAnswer('The pool now.'),
        byId(poolId, { requestBody: poolBody(['device_ids'], ['device_ids']) }),
      ),
    },
    '/v1/pools/{id}/devices/{device_id}': {
      delete: op(
        'pools',
        'Remove one device from a pool',
        poolAnswer('The pool now.'),
        byId(poolId, {
          parameters: [
            {
              name: 'device_id',
              in: 'path',
              required: true,
              description: 'A device in the pool.',
              schema: { type: 'integer' },
            },
          ],
        }),
      ),
    },
  };
}

function webhookPaths(): PathsObject {
  return {
    '/v1/webhooks': {
      post: op(
        'webhooks',
        'Subscribe a URL to events (docs/webhooks.md); the signing `secret` is answered this once. At most WEBHOOKS_MAX_PER_ACCOUNT (20) per account',
        json('The subscription with its secret.', {
          error: 0,
          message: 'OK',
          webhook: { ...WEBHOOK, secret: 'whsec_…' },
        }),
        { requestBody: webhookBody(['url', 'events']) },
      ),
      get: op(
        'webhooks',
        'Your webhook subscriptions (never their secrets)',
        json('The subscriptions.', { error: 0, message: 'OK', webhooks: [WEBHOOK] }),
      ),
    },
    '/v1/webhooks/{id}': resourceById(
      'webhooks',
      hookId,
      { summary: 'One subscription', answer: json('It.', { error: 0, message: 'OK', webhook: WEBHOOK }) },
      {
        summary:
          'Change url, events, device_ids, description, batch_size; `paused` true/false (false also lifts a disable)',
        answer: json('The subscription now.', { error: 0, message: 'OK', webhook: WEBHOOK }),
        requestBody: webhookBody([]),
      },
      {
        summary: 'End a subscription; its undelivered events are dropped',
        answer: json('Deleted.', { error: 0, message: 'OK', webhook_id: 4 }),
      },
    ),
    '/v1/webhooks/{id}/secret': {
      post: op(
        'webhooks',
        'Rotate the signing secret: the new one is answered once; the old one keeps signing beside it for `grace_seconds` (0–604,800, default 86,400)',
        json('The subscription with its new secret.', {
          error: 0,
          message: 'OK',
          webhook: { ...WEBHOOK, secret: 'whsec_…', previous_secret_expires_at: ISO },
        }),
        byId(hookId, {
          requestBody: {
            content: {
              'application/json': {
                schema: { type: 'object', properties: { grace_seconds: { type: 'integer' } } },
              },
            },
          },
        }),
      ),
    },
    '/v1/webhooks/{id}/deliveries': {
      get: op(
        'webhooks',
        'Deliveries of a subscription, newest first: attempts, last status code, error, latency, next retry',
        json('A page; `next_before` null on the last.', {
          error: 0,
          message: 'OK',
          deliveries: [
            {
              id: 981,
              event_id: '0b7e2c52-1f0a-4c55-9f61-6c1e7d1f3a90',
              event_type: 'message.delivered',
              occurred_at: ISO,
              status: 'failed',
              attempts: 2,
              last_status_code: 503,
              last_error: 'HTTP 503',
              last_latency_ms: 41,
              first_attempt_at: ISO,
              last_attempt_at: ISO,
              next_attempt_at: ISO,
              delivered_at: null,
              created_at: ISO,
            },
          ],
          next_before: null,
        }),
        byId(hookId, {
          parameters: [
            query('before', 'integer', 'The previous page’s `next_before`.'),
            query('limit', 'integer', '1–100 (default 50).'),
            query('status', 'string', '`pending`, `failed` (retrying), `delivered` or `dead` (given up).'),
          ],
        }),
      ),
    },
    '/v1/webhooks/{id}/redeliver': {
      post: op(
        'webhooks',
        'Send again now, with the same event id: one delivery (`delivery_id`), or every failed and given-up one',
        json('How many were queued again.', { error: 0, message: 'OK', redelivered: 3 }),
        byId(hookId, {
          requestBody: {
            content: {
              'application/json': {
                schema: { type: 'object', properties: { delivery_id: { type: 'integer' } } },
              },
            },
          },
        }),
      ),
    },
    '/v1/webhooks/{id}/test': {
      post: op(
        'webhooks',
        'Queue a `webhook.test` event to this subscription now',
        json('Its event id.', { error: 0, message: 'OK', event_id: '0b7e2c52-1f0a-4c55-9f61-6c1e7d1f3a90' }),
        byId(hookId),
      ),
    },
  };
}

export function v1Paths(): PathsObject {
  return {
    ...webhookPaths(),
    ...poolPaths(),
    '/v1/session': {
      post: {
        tags: ['session'],
        summary:
          'Sign in to the dashboard: `email` + `password` (the limits of gettoken). Sets an HTTP-only, SameSite=Strict cookie (Secure over TLS) and answers the session’s CSRF token, which every later request of the session sends as `x-csrf-token`',
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['email', 'password'],
                properties: { email: { type: 'string' }, password: { type: 'string' } },
              },
            },
          },
        },
        responses: {
          '200': json('Signed in.', {
            error: 0,
            message: 'OK',
            email: 'me@example.com',
            timezone: 'UTC',
            csrf_token: '5e0c…',
          }),
          '401': json('Wrong email or password.', {
            error: 1,
            code: 'invalid_credentials',
            message: 'Login or password incorrect',
          }),
          '429': json('Too many attempts.', { error: 1, code: 'rate_limited', message: '…' }),
        },
      },
      get: {
        tags: ['session'],
        summary: 'The signed-in account and the session’s CSRF token (the cookie suffices)',
        security: [{ session: [] }],
        responses: {
          '200': json('Signed in.', {
            error: 0,
            message: 'OK',
            email: 'me@example.com',
            timezone: 'UTC',
            csrf_token: '5e0c…',
          }),
          '401': json('No live session.', { error: 1, code: 'invalid_token', message: 'not signed in' }),
        },
      },
      delete: {
        tags: ['session'],
        summary: 'Sign out: the session ends on the server (its cookie is refused from now on)',
        security: [{ session: [], csrf: [] }],
        responses: { '200': json('Signed out.', { error: 0, message: 'OK' }), '401': errors['401'] },
      },
    },
    '/v1/overview': {
      get: op(
        'dashboard',
        'Messages per hour by outcome (delivered, failed, waiting, in progress) over the range, failures by status, phones online, the message waiting longest',
        json('The overview.', {
          error: 0,
          message: 'OK',
          range: '24h',
          hours: [{ hour: ISO, delivered: 120, failed: 2, waiting: 0, in_progress: 1 }],
          failures_by_code: [{ status: 9, status_title: 'Not SENT - Generic failure', count: 2 }],
          devices_online: 3,
          devices_total: 4,
          oldest_waiting: { id: 1840, device_id: 12, created_at: ISO, due_at: ISO, waiting_seconds: 42 },
        }),
        { parameters: [query('range', 'string', '`24h` (default) or `7d`.')] },
      ),
    },
    '/v1/messages': {
      get: op(
        'messages',
        'Your messages page by page (keyset: each page costs the same however deep), with the getallsms filters; ISO 8601 times (UTC)',
        json('A page; `next_cursor` null on the last.', {
          error: 0,
          message: 'OK',
          messages: [MESSAGE],
          next_cursor: 'bTox…',
        }),
        { parameters: FILTERS },
      ),
    },
    '/v1/messages/{id}': {
      get: op(
        'messages',
        'One message with its history (taken, sent, delivered, failures with their error)',
        json('The message.', {
          error: 0,
          message: 'OK',
          sms: {
            ...MESSAGE,
            history: [
              { status: 2, status_title: 'Taken from Server', at: ISO, recorded_at: ISO, error: null },
            ],
          },
        }),
        { parameters: [idIn('message')], responses: { '404': notFound } },
      ),
    },
    '/v1/messages/cancel': {
      post: op(
        'messages',
        'Cancel messages no phone has taken yet: `ids` (1–1,000), or filters that all must match (`device_id`, `pool_id`, `customer_id`, `newsletter_id`; at most 10,000 waiting messages per call, `more` says call again). Each ends as 205 unless a phone took it first: the answer says which, per message',
        json('Per message: `cancelled`, `taken`, `final` or `not_found`, with its status after the call.', {
          error: 0,
          message: 'OK',
          cancelled: 1,
          taken: 1,
          final: 0,
          not_found: 0,
          more: false,
          results: [
            { id: 1842, result: 'cancelled', status: 205 },
            { id: 1843, result: 'taken', status: 1 },
          ],
        }),
        {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    ids: { type: 'array', items: { type: 'integer' }, maxItems: 1_000 },
                    device_id: { type: 'integer' },
                    pool_id: { type: 'integer' },
                    customer_id: { type: 'integer' },
                    newsletter_id: { type: 'integer' },
                  },
                },
              },
            },
          },
          responses: {
            '404': json('`device_id` or `pool_id` is not one of this account’s.', {
              error: 1,
              code: 'not_found',
              message: '…',
            }),
          },
        },
      ),
    },
    '/v1/messages/{id}/reschedule': {
      post: op(
        'messages',
        'Move a waiting message (not taken by a phone) to a new `timetosend`: addsms’s format in the account’s time zone, or ISO 8601 with its offset; none, `0` or past = now. Its validity starts again from the new time',
        json('The new times; `queued` false: beyond the scheduling horizon, queued when it comes near.', {
          error: 0,
          message: 'OK',
          id: 1842,
          time_to_send: ISO,
          valid_until: '2026-12-07T09:00:00.000Z',
          queued: true,
        }),
        {
          parameters: [idIn('message')],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['timetosend'],
                  properties: { timetosend: { type: 'string', example: '2026-12-06 10:00:00' } },
                },
              },
            },
          },
          responses: {
            '404': notFound,
            '409': json('Taken by a phone, or final: only a waiting message can be moved.', {
              error: 1,
              code: 'not_waiting',
              message:
                'message 1842 was taken by a phone (status 2, Taken from Server): only a waiting message can be changed',
            }),
          },
        },
      ),
    },
    '/v1/devices': {
      get: op(
        'devices',
        'Your phones: online now, last seen, kind, SIM cards, pace and window, pool, messages waiting and sent today (the account’s day)',
        json('The devices.', {
          error: 0,
          message: 'OK',
          devices: [
            {
              id: 12,
              title: 'Shop phone',
              kind: 'socket',
              online: true,
              last_seen: ISO,
              created_at: ISO,
              app_version: '1.4.0',
              sim_info: [{ Slot: 0, CarrierName: 'Telekom' }],
              send_slots: [0, 1, 2, 3, 4, 5],
              delaybetweeneachsms: 0,
              delaybetweeneachsms_max: null,
              pool_id: 3,
              window: 10,
              waiting: 3,
              sent_today: 120,
            },
          ],
        }),
      ),
    },
    '/v1/devices/{id}': {
      get: op(
        'devices',
        'One phone, as listed by GET /v1/devices',
        json('The device.', { error: 0, message: 'OK', device: {} }),
        {
          parameters: [idIn('device')],
          responses: { '404': notFound },
        },
      ),
    },
    '/v1/devices/{id}/settings': {
      post: op(
        'devices',
        'Pace (`delaybetweeneachsms`: seconds 0–86,400, or a random range `"5-15"` drawn per message, or a number with `delaybetweeneachsms_max`) and/or `window` (1–1,000), send hours (`sendhours`, `sendhours_timezone`, `sendhours_urgent`) and SIM quotas (`simquotas`) of a phone: stored and applied to it at once',
        json('The settings now.', {
          error: 0,
          message: 'OK',
          device_id: 12,
          settings: { delaybetweeneachsms: 5, window: 10, delaybetweeneachsms_max: 15 },
        }),
        {
          parameters: [idIn('device')],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    delaybetweeneachsms: {
                      oneOf: [{ type: 'integer' }, { type: 'string', example: '5-15' }],
                    },
                    delaybetweeneachsms_max: { type: 'integer' },
                    window: { type: 'integer' },
                    sendhours: { type: 'string', example: 'mon-fri 08:00-21:00; sat 10:00-18:00' },
                    sendhours_timezone: { type: 'string', example: 'Europe/Berlin' },
                    sendhours_urgent: { type: 'integer', enum: [0, 1] },
                    simquotas: { type: 'string', example: '0 100/hour 1000/day; 1 50/day' },
                  },
                },
              },
            },
          },
          responses: { '404': notFound },
        },
      ),
    },
    '/v1/account': {
      get: op(
        'account',
        'The account: email and time zone',
        json('The account.', { error: 0, message: 'OK', email: 'me@example.com', timezone: 'UTC' }),
      ),
      post: op(
        'account',
        'Set the account’s time zone (an IANA name): dates in and out of the compatible API follow it',
        json('Stored.', { error: 0, message: 'OK', email: 'me@example.com', timezone: 'Europe/Paris' }),
        {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['timezone'],
                  properties: { timezone: { type: 'string' } },
                },
              },
            },
          },
        },
      ),
    },
    '/v1/account/token': {
      get: op(
        'account',
        'The API token (as gettoken answers it)',
        json('The token.', { error: 0, message: 'OK', token: '9f2c…' }),
      ),
      post: op(
        'account',
        'Rotate the API token: the old one is refused from now on (other replicas: within 5 s)',
        json('The new token.', { error: 0, message: 'OK', token: '41ab…' }),
      ),
    },
    '/v1/account/phone-token': {
      get: op(
        'account',
        'The phone registration token (the SMSGate app’s Private Token)',
        json('The token.', { error: 0, message: 'OK', phone_token: 'c1d2…' }),
      ),
      post: op(
        'account',
        'Rotate the phone registration token (registered phones keep working)',
        json('The new token.', { error: 0, message: 'OK', phone_token: 'e3f4…' }),
      ),
    },
    '/v1/tags': {
      get: op(
        'contacts',
        'Your tags with their number of contacts',
        json('The tags.', { error: 0, message: 'OK', tags: [{ id: 3, title: 'VIP', contacts: 12 }] }),
      ),
    },
    '/v1/contacts': {
      get: op(
        'contacts',
        'Your contacts by id, a page at a time',
        json('A page; `next_after` null on the last.', {
          error: 0,
          message: 'OK',
          contacts: [{ id: 5, sendto: '+4915752982212', name: 'Anna', tag_ids: [3] }],
          next_after: null,
        }),
        {
          parameters: [
            query('tag_id', 'integer', 'Only contacts carrying this tag.'),
            query('after', 'integer', 'The previous page’s `next_after`.'),
            query('limit', 'integer', '1–1,000 (default 100).'),
          ],
        },
      ),
    },
    '/v1/contacts/import': {
      post: op(
        'contacts',
        'Up to 1,000 contacts saved with one tag, all or none (a CSV goes in chunks); every bad row named in `errors`',
        json('Saved: how many numbers, and how many were new.', {
          error: 0,
          message: 'OK',
          tag_id: 3,
          saved: 998,
          created: 950,
          max_rows: 1000,
        }),
        {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['tag_id', 'contacts'],
                  properties: {
                    tag_id: { type: 'integer' },
                    contacts: {
                      type: 'array',
                      maxItems: 1000,
                      items: {
                        type: 'object',
                        required: ['phone'],
                        properties: { phone: { type: 'string' }, name: { type: 'string', maxLength: 255 } },
                      },
                    },
                  },
                },
              },
            },
          },
          responses: { '404': notFound },
        },
      ),
    },
    '/v1/newsletters': {
      get: op(
        'contacts',
        'Your latest 100 newsletters (savepaket) with their progress',
        json('The newsletters.', {
          error: 0,
          message: 'OK',
          newsletters: [
            {
              id: 7,
              title: 'Sale',
              body: '…',
              device_id: 12,
              sim: 0,
              tag_ids: [3],
              time_to_send: ISO,
              expanded: true,
              message_count: 12,
              progress: { waiting: 0, in_progress: 1, delivered: 10, failed: 1 },
            },
          ],
        }),
      ),
    },
  };
}
