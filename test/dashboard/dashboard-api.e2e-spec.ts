import { registerPhone } from '../../tools/simulator/fleet';
import { Account, TestSystem } from '../harness/test-system';

type Answer = { status: number; body: Record<string, unknown>; headers: Headers };

let system: TestSystem;
let account: Account;
let deviceId: number;

async function request(
  path: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${system.apiUrl}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const body = (response.headers.get('content-type') ?? '').includes('json')
    ? (JSON.parse(text) as Record<string, unknown>)
    : { html: text };
  return { status: response.status, body, headers: response.headers };
}

async function signIn(email = account.email, password = account.password) {
  const answer = await request('/v1/session', { method: 'POST', body: { email, password } });
  const setCookie = answer.headers.get('set-cookie') ?? '';
  return { answer, setCookie, cookie: setCookie.split(';')[0], csrf: answer.body.csrf_token as string };
}

/**
 * The dashboard's JSON surface (docs/dashboard.md): sessions in an HTTP-only cookie with a CSRF token on
 * every request, the /v1 routes the pages read, and the built app served at `/` beside the API.
 */
describe('dashboard API: sessions, CSRF, /v1 routes, the app at /', () => {
  beforeAll(async () => {
    system = await TestSystem.start(['api'], {
      RATE_LIMIT_FAILED_LOGINS_PER_EMAIL: '3',
      API_TRUST_PROXY: '1',
      CONTACTS_MAX_PER_ACCOUNT: '1500',
    });
    account = system.createAccount();
    deviceId = (await registerPhone(system.apiUrl, account.email, account.password, 'dashboard phone'))
      .deviceId;
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('signs in to an HTTP-only, SameSite=Strict cookie; Secure only when the request came over TLS', async () => {
    const plain = await signIn();
    expect(plain.answer.status).toBe(200);
    expect(plain.setCookie).toMatch(
      /^smsfleet_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    expect(plain.csrf).toMatch(/^[0-9a-f]{64}$/);
    // Behind one trusted proxy that terminated TLS.
    const tls = await request('/v1/session', {
      method: 'POST',
      body: { email: account.email, password: account.password },
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(tls.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('a session request needs its CSRF token, whatever the method; the cookie alone gets 401', async () => {
    const { cookie, csrf } = await signIn();
    const without = await request('/v1/devices', { headers: { cookie } });
    const wrong = await request('/v1/devices', { headers: { cookie, 'x-csrf-token': 'f'.repeat(64) } });
    const changeWithout = await request(`/v1/devices/${deviceId}/settings`, {
      method: 'POST',
      body: { window: 3 },
      headers: { cookie },
    });
    const sendWithout = await request('/getdata/addsms', {
      method: 'POST',
      body: { sendto: '+4915752982212', body: 'csrf', device_id: deviceId },
      headers: { cookie },
    });
    expect([without.status, wrong.status, changeWithout.status]).toEqual([401, 401, 401]);
    expect(without.body).toMatchObject({ error: 1, code: 'invalid_token' });
    expect(sendWithout.body).toMatchObject({ error: 1, code: 'invalid_token' });
    const [{ count }] = await system.query<{ count: number }>(`SELECT count(*)::int AS count FROM messages`);
    expect(count).toBe(0);
    // With the header: the same routes work, the compatible ones too.
    const headers = { cookie, 'x-csrf-token': csrf };
    const change = await request(`/v1/devices/${deviceId}/settings`, {
      method: 'POST',
      body: { window: 3 },
      headers,
    });
    const sent = await request('/getdata/addsms', {
      method: 'POST',
      body: { sendto: '+4915752982212', body: 'session', device_id: deviceId },
      headers,
    });
    expect(change.body).toMatchObject({ error: 0, settings: { window: 3 } });
    expect(sent.body).toMatchObject({ error: 0 });
    const devices = await request('/v1/devices', { headers });
    expect(devices.body.devices).toEqual([
      expect.objectContaining({ id: deviceId, window: 3, waiting: 1, online: false, kind: 'socket' }),
    ]);
  });

  it('GET /v1/session answers the CSRF token again; sign-out ends the session on the server', async () => {
    const { cookie, csrf } = await signIn();
    const again = await request('/v1/session', { headers: { cookie } });
    expect(again.body).toMatchObject({ error: 0, email: account.email, csrf_token: csrf });
    const outWithout = await request('/v1/session', { method: 'DELETE', headers: { cookie } });
    expect(outWithout.status).toBe(401);
    const out = await request('/v1/session', { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^smsfleet_session=; .*Max-Age=0/);
    // The copied cookie is worthless now.
    const after = await request('/v1/devices', { headers: { cookie, 'x-csrf-token': csrf } });
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({
      code: 'invalid_token',
      message: 'the session has ended; sign in again',
    });
    expect((await request('/v1/session', { headers: { cookie } })).status).toBe(401);
  });

  it('sign-in has gettoken’s limits: failed passwords per email are counted, then even the right one waits', async () => {
    const other = system.createAccount();
    const wrong = await Promise.all([1, 2, 3].map(() => signIn(other.email, 'wrong password!')));
    expect(wrong.map((w) => w.answer.status)).toEqual([401, 401, 401]);
    expect(wrong[0].answer.body).toMatchObject({ code: 'invalid_credentials' });
    const limited = await signIn(other.email, other.password);
    expect(limited.answer.status).toBe(429);
    expect(limited.answer.body).toMatchObject({ code: 'rate_limited' });
    expect(limited.setCookie).toBe('');
    // gettoken shares the count.
    const token = await request(
      `/getdata/gettoken?email=${encodeURIComponent(other.email)}&pass=${encodeURIComponent(other.password)}`,
    );
    expect(token.body).toMatchObject({ code: 'rate_limited' });
  });

  it('pages messages by keyset with filters; a bad cursor or filter is a clear 400', async () => {
    const headers = { authorization: `Bearer ${account.token}` };
    const sendto = Array.from({ length: 25 }, (_, i) => `+49157529822${String(i).padStart(2, '0')}`).join(
      ',',
    );
    await request('/getdata/addsms', {
      method: 'POST',
      body: { sendto, body: 'paged', device_id: deviceId },
      headers,
    });
    const ids: number[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const page = await request(`/v1/messages?limit=10&cursor=${cursor}&device_id=${deviceId}`, { headers });
      ids.push(...(page.body.messages as Array<{ id: number }>).map((m) => m.id));
      cursor = page.body.next_cursor as string | null;
      pages++;
    }
    const all = await system.query<{ id: number }>(`SELECT id FROM messages ORDER BY id DESC`);
    expect(ids).toEqual(all.map((row) => Number(row.id)));
    expect(pages).toBe(3);
    const asc = await request('/v1/messages?order=asc&limit=1&phone=%2B4915752982200', { headers });
    expect(asc.body.messages).toEqual([expect.objectContaining({ sendto: '+4915752982200', status: 1 })]);
    const detail = await request(`/v1/messages/${ids[0]}`, { headers });
    expect(detail.body.sms).toMatchObject({ id: ids[0], history: [] });
    for (const bad of ['cursor=xyz', 'limit=501', 'order=up', 'status=abc', 'begindate=yesterday'])
      expect([bad, (await request(`/v1/messages?${bad}`, { headers })).body]).toEqual([
        bad,
        expect.objectContaining({ error: 1, code: 'validation' }),
      ]);
    expect((await request('/v1/messages/abc', { headers })).status).toBe(404);
    expect((await request('/v1/overview?range=1y', { headers })).body).toMatchObject({ code: 'validation' });
  });

  it('the overview charts every hour of the range by outcome', async () => {
    const headers = { authorization: `Bearer ${account.token}` };
    const day = await request('/v1/overview', { headers });
    const week = await request('/v1/overview?range=7d', { headers });
    const hours = day.body.hours as Array<Record<string, number>>;
    expect(hours.length).toBe(25);
    expect((week.body.hours as unknown[]).length).toBe(24 * 7 + 1);
    expect(hours.reduce((sum, hour) => sum + hour.waiting, 0)).toBe(26);
    expect(day.body).toMatchObject({ devices_total: 1, devices_online: 0, failures_by_code: [] });
  });

  it('account: time zone, API token rotation, phone registration token', async () => {
    const { cookie, csrf } = await signIn();
    const headers = { cookie, 'x-csrf-token': csrf };
    expect(
      (await request('/v1/account', { method: 'POST', body: { timezone: 'Mars/Olympus' }, headers })).body,
    ).toMatchObject({
      code: 'validation',
    });
    expect(
      (await request('/v1/account', { method: 'POST', body: { timezone: 'Europe/Paris' }, headers })).body,
    ).toMatchObject({
      timezone: 'Europe/Paris',
    });
    const token = (await request('/v1/account/token', { headers })).body.token as string;
    const rotated = (await request('/v1/account/token', { method: 'POST', headers })).body.token as string;
    expect(rotated).not.toBe(token);
    expect((await request('/v1/devices', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
    expect((await request('/v1/devices', { headers: { authorization: `Bearer ${rotated}` } })).status).toBe(
      200,
    );
    account.token = rotated;
    const phoneToken = await request('/v1/account/phone-token', { headers });
    expect(phoneToken.body.phone_token).toEqual(expect.any(String));
  });

  it('imports contacts with a tag, all or none, naming every bad row; the cap counts the whole chunk', async () => {
    const headers = { authorization: `Bearer ${account.token}` };
    const tag = await request('/getdata/savetag', { method: 'POST', body: { title: 'import' }, headers });
    const tagId = tag.body.tag_id as number;
    const rows = Array.from({ length: 1_000 }, (_, i) => ({
      phone: `+4915760${String(i).padStart(6, '0')}`,
      name: `n${i}`,
    }));
    const kept = async () =>
      (
        await system.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM contacts c JOIN contact_tags t ON t.contact_id = c.id
            WHERE c.user_id = (SELECT id FROM users WHERE email = $1) AND t.tag_id = $2`,
          [account.email, tagId],
        )
      )[0].count;

    const bad = rows.map((row) => ({ ...row }));
    bad[10].phone = 'call me';
    (bad as unknown[])[500] = ['+4915700000000'];
    const refused = await request('/v1/contacts/import', {
      method: 'POST',
      body: { tag_id: tagId, contacts: bad },
      headers,
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: 1,
      code: 'validation',
      errors: [
        { index: 10, field: 'phone' },
        { index: 500, field: 'item' },
      ],
    });
    expect(await kept()).toBe(0);

    const saved = await request('/v1/contacts/import', {
      method: 'POST',
      body: { tag_id: tagId, contacts: rows },
      headers,
    });
    expect(saved.body).toEqual({
      error: 0,
      message: 'OK',
      tag_id: tagId,
      saved: 1_000,
      created: 1_000,
      max_rows: 1_000,
    });
    expect(await kept()).toBe(1_000);
    // Again, with one name changed: no new contact, the new name kept.
    rows[0].name = 'renamed';
    const again = await request('/v1/contacts/import', {
      method: 'POST',
      body: { tag_id: tagId, contacts: rows },
      headers,
    });
    expect(again.body).toMatchObject({ saved: 1_000, created: 0 });
    const [first] = await system.query<{ name: string }>(
      `SELECT name FROM contacts WHERE user_id = (SELECT id FROM users WHERE email = $1) AND phone = $2`,
      [account.email, rows[0].phone],
    );
    expect(first.name).toBe('renamed');

    // CONTACTS_MAX_PER_ACCOUNT is 1,500 here: 600 new numbers do not fit beside the 1,000, none is saved.
    const more = Array.from({ length: 600 }, (_, i) => ({ phone: `+4915761${String(i).padStart(6, '0')}` }));
    const overCap = await request('/v1/contacts/import', {
      method: 'POST',
      body: { tag_id: tagId, contacts: more },
      headers,
    });
    expect(overCap.body).toMatchObject({ error: 1, code: 'validation' });
    expect(overCap.body.message).toContain('this import adds 600 new numbers, more than the 1500 allowed');
    expect(await kept()).toBe(1_000);

    const other = system.createAccount();
    const foreign = await request('/v1/contacts/import', {
      method: 'POST',
      body: { tag_id: tagId, contacts: rows.slice(0, 1) },
      headers: { authorization: `Bearer ${other.token}` },
    });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'not_found']);
  });

  it('serves the dashboard at its pages only: API routes, unknown paths and /metrics stay the API’s', async () => {
    for (const page of [
      '/',
      '/messages',
      '/messages/12',
      '/devices/add',
      '/send/bulk',
      '/webhooks',
      '/webhooks/3',
      '/account',
    ]) {
      const answer = await request(page);
      expect([page, answer.status, answer.headers.get('content-type')]).toEqual([
        page,
        200,
        'text/html; charset=utf-8',
      ]);
      expect(answer.body.html).toContain('<div id="root">');
    }
    const index = (await request('/')).body.html as string;
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${system.apiUrl}${script}`);
    expect([asset.status, asset.headers.get('cache-control')]).toEqual([
      200,
      'public, max-age=31536000, immutable',
    ]);
    expect((await request('/nothing-here')).body).toMatchObject({ error: 1, code: 'not_found' });
    expect((await request('/v1/nothing')).body).toMatchObject({ error: 1, code: 'not_found' });
    expect((await request('/getdata/getalldevices')).body).toMatchObject({ code: 'invalid_token' });
    expect((await request('/metrics')).body.html).toContain('# HELP');
    expect((await request('/health/live')).status).toBe(200);
  });

  it('answers bad input on every new route in the API’s error format, never a 5xx', async () => {
    const headers = { authorization: `Bearer ${account.token}` };
    const gets = [
      '/v1/messages?device_id=abc',
      '/v1/messages?limit=0',
      '/v1/messages?phone=call%20me',
      '/v1/messages?cursor=%00',
      `/v1/messages?cursor=${'A'.repeat(100)}`,
      '/v1/messages?sim=9',
      '/v1/messages?begindate=2026-13-45',
      '/v1/messages?status=1&status=2',
      '/v1/messages/99999999999999999999',
      '/v1/messages/-1',
      '/v1/devices/0',
      '/v1/devices/1e3',
      '/v1/contacts?after=-1',
      '/v1/contacts?tag_id=x',
      '/v1/contacts?limit=100000',
      '/v1/overview?range=%F0%9F%98%80',
    ];
    for (const path of gets) {
      const answer = await request(path, { headers });
      expect([path, answer.status < 500, answer.body.error, typeof answer.body.code]).toEqual([
        path,
        true,
        1,
        'string',
      ]);
    }
    const posts: Array<[string, unknown]> = [
      ['/v1/account', { timezone: 'Europe/Paris\u0000' }],
      ['/v1/account', { timezone: ['UTC'] }],
      ['/v1/account', {}],
      ['/v1/session', { email: ['a'], password: { x: 1 } }],
      ['/v1/session', { email: 'x@example.com' }],
      [`/v1/devices/${deviceId}/settings`, { window: 0 }],
      ['/v1/contacts/import', { tag_id: 1, contacts: 'x' }],
      ['/v1/contacts/import', { tag_id: 'x', contacts: [] }],
      ['/v1/contacts/import', { tag_id: 1, contacts: [{ phone: '\u0000' }] }],
    ];
    for (const [path, body] of posts) {
      const answer = await request(path, { method: 'POST', body, headers });
      expect([path, answer.status, answer.body.error, answer.body.code]).toEqual([
        path,
        400,
        1,
        'validation',
      ]);
    }
  });

  it('documents every /v1 route the dashboard calls in the OpenAPI document', async () => {
    const document = (await request('/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    const routes: Array<[string, string]> = [
      ['/v1/session', 'post'],
      ['/v1/session', 'get'],
      ['/v1/session', 'delete'],
      ['/v1/overview', 'get'],
      ['/v1/messages', 'get'],
      ['/v1/messages/{id}', 'get'],
      ['/v1/devices', 'get'],
      ['/v1/devices/{id}', 'get'],
      ['/v1/devices/{id}', 'delete'],
      ['/v1/devices/{id}/settings', 'post'],
      ['/v1/account', 'get'],
      ['/v1/account', 'post'],
      ['/v1/account/token', 'post'],
      ['/v1/account/phone-token', 'get'],
      ['/v1/tags', 'get'],
      ['/v1/contacts', 'get'],
      ['/v1/contacts/import', 'post'],
      ['/v1/newsletters', 'get'],
      ['/v1/webhooks', 'get'],
      ['/v1/webhooks', 'post'],
      ['/v1/webhooks/{id}', 'get'],
      ['/v1/webhooks/{id}', 'post'],
      ['/v1/webhooks/{id}', 'delete'],
      ['/v1/webhooks/{id}/secret', 'post'],
      ['/v1/webhooks/{id}/deliveries', 'get'],
      ['/v1/webhooks/{id}/redeliver', 'post'],
      ['/v1/webhooks/{id}/test', 'post'],
      ['/getdata/addsms', 'post'],
      ['/getdata/addalotofsms', 'post'],
    ];
    for (const [path, method] of routes)
      expect([path, method, document.paths[path]?.[method] !== undefined]).toEqual([path, method, true]);
  });
});
