import { registerPhone } from '../../tools/simulator/fleet';
import { ENCODINGS, getdata } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';

const METHODS = [
  'gettoken',
  'addsms',
  'smstosend',
  'addalotofsms',
  'getallsms',
  'getsmsstatus',
  'savetag',
  'savecontact',
  'savepaket',
  'createpaket',
  'getalldevices',
  'getdevicestatus',
];

/** Transport rules shared by every method, the OpenAPI description, and tenant isolation across all of them. */
describe('API contract', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let aliceDevice: number;
  let bobDevice: number;

  beforeAll(async () => {
    system = await TestSystem.start(['api']);
    alice = system.createAccount();
    bob = system.createAccount();
    aliceDevice = (await registerPhone(system.apiUrl, alice.email, alice.password, 'alice')).deviceId;
    bobDevice = (await registerPhone(system.apiUrl, bob.email, bob.password, 'bob')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
  });

  describe('transport', () => {
    describe.each(ENCODINGS)('over %s', (encoding) => {
      it('gettoken answers the current token', async () => {
        const answer = await getdata(
          system.apiUrl,
          'gettoken',
          { email: alice.email, pass: alice.password },
          encoding,
        );
        expect(answer).toEqual({ status: 200, body: { error: 0, message: 'OK', token: alice.token } });
      });

      it('smstosend sends with email and pass; getsmsstatus reads it back', async () => {
        const sent = await getdata(
          system.apiUrl,
          'smstosend',
          {
            email: alice.email,
            pass: alice.password,
            sendto: '+4915752982212',
            body: 'hi',
            device_id: aliceDevice,
          },
          encoding,
        );
        expect(sent.body).toEqual({
          error: 0,
          sms_id: expect.any(Number),
          message: 'Sms has been saved successfully',
        });
        const status = await getdata(
          system.apiUrl,
          'getsmsstatus',
          { token: alice.token, sms_id: String(sent.body.sms_id) },
          encoding,
        );
        expect(status).toEqual({
          status: 200,
          body: { error: 0, message: 'Ok', sms_id: sent.body.sms_id, status: 1, status_description: 'New' },
        });
      });
    });

    it('takes the token from Authorization: Bearer', async () => {
      const response = await fetch(`${system.apiUrl}/getdata/getalldevices`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as Record<string, unknown>).count).toBe(1);
    });

    it('merges the query string and the body; a body field wins', async () => {
      const response = await fetch(`${system.apiUrl}/getdata/savetag?token=${alice.token}&title=from-query`, {
        method: 'POST',
        body: new URLSearchParams({ title: 'from-body' }),
      });
      const answer = (await response.json()) as Record<string, unknown>;
      expect(response.status).toBe(200);
      const [tag] = await system.query(`SELECT title FROM tags WHERE id = $1`, [answer.tag_id]);
      expect(tag).toEqual({ title: 'from-body' });
    });

    it('answers a POST with every parameter in the query string and an empty body', async () => {
      const response = await fetch(
        `${system.apiUrl}/getdata/addsms?token=${alice.token}&sendto=%2B4915752982212&body=hi&device_id=${aliceDevice}`,
        { method: 'POST' },
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ error: 0, sms_id: expect.any(Number) });
    });

    it('answers ids and counts as JSON numbers, with HTTP 200 on POST', async () => {
      const answer = await getdata(
        system.apiUrl,
        'addsms',
        {
          token: alice.token,
          sendto: '+4915752982212,+4915752982213',
          body: 'x',
          device_id: String(aliceDevice),
          sim: '1',
        },
        'json',
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        error: 0,
        sms_id: expect.any(Number),
        sms_ids: [expect.any(Number), expect.any(Number)],
        message: 'Sms has been saved successfully',
      });
    });

    it('ignores unknown fields', async () => {
      const answer = await getdata(system.apiUrl, 'getdevicestatus', {
        token: alice.token,
        device_id: aliceDevice,
        foo: 'bar',
        __proto__x: 1,
      });
      expect(answer.body).toMatchObject({ error: 0, device_id: aliceDevice });
    });

    it('answers an unknown method with error 1, HTTP 200', async () => {
      const answer = await getdata(system.apiUrl, 'sendfax', { token: alice.token });
      expect(answer).toEqual({
        status: 200,
        body: { error: 1, code: 'not_found', message: 'no such endpoint: GET /getdata/sendfax' },
      });
    });

    it.each(METHODS.filter((m) => m !== 'gettoken' && m !== 'smstosend'))(
      '%s refuses a rotated-looking token with invalid_token',
      async (method) => {
        const answer = await getdata(system.apiUrl, method, { token: 'a'.repeat(64) });
        expect(answer).toEqual({
          status: 200,
          body: expect.objectContaining({ error: 1, code: 'invalid_token' }),
        });
      },
    );
  });

  describe('hostile input', () => {
    const post = async (method: string, body: string, type: string) => {
      const response = await fetch(`${system.apiUrl}/getdata/${method}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it.each([
      [
        'savetag',
        () => `token=${alice.token}&title=a&title=b`,
        'application/x-www-form-urlencoded',
        /title must be a single text value/,
      ],
      [
        'savetag',
        () => JSON.stringify({ token: alice.token, title: { a: 1 } }),
        'application/json',
        /title must be a single text value/,
      ],
      ['savetag', () => JSON.stringify({ token: alice.token, title: 'a\u0000b' }), 'application/json', /NUL/],
      [
        'getallsms',
        () => JSON.stringify({ token: alice.token, limit: [1, 2] }),
        'application/json',
        /limit must be a whole number/,
      ],
      [
        'getallsms',
        () => JSON.stringify({ token: alice.token, begindate: '9999-99-99' }),
        'application/json',
        /begindate must be a date/,
      ],
      [
        'savecontact',
        () => JSON.stringify({ token: alice.token, phone: '+49157', ctag_id: 1e30 }),
        'application/json',
        /ctag_id must be a whole number/,
      ],
      [
        'savepaket',
        () => `{"token":"${alice.token}","__proto__":{"x":1}}`,
        'application/json',
        /not valid JSON/,
      ],
      ['getalldevices', () => '{"token": ', 'application/json', /JSON/i],
      ['savetag', () => 'token=x', 'text/xml', /unsupported media type|content type/i],
    ])('%s answers error 1 with HTTP 200 for %#', async (method, body, type, message) => {
      const answer = await post(method, body(), type);
      expect(answer).toEqual({
        status: 200,
        body: { error: 1, code: 'validation', message: expect.stringMatching(message) },
      });
    });

    it('stores unicode as it came and keeps __proto__ in a bulk item harmless', async () => {
      const datajson = `{"token":"${alice.token}","smsdata":[{"sendto":"+4915752982212","body":"héllo 👋 مرحبا","device_id":${aliceDevice},"__proto__":{"admin":true}}]}`;
      const answer = await getdata(system.apiUrl, 'addalotofsms', { datajson }, 'form');
      expect(answer.body).toMatchObject({ error: 0, count: 1 });
      const [row] = await system.query(`SELECT body FROM messages WHERE id = $1`, [
        (answer.body.sms_ids as number[])[0],
      ]);
      expect(row).toEqual({ body: 'héllo 👋 مرحبا' });
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });
  });

  describe('OpenAPI', () => {
    it('serves the UI at /docs', async () => {
      const response = await fetch(`${system.apiUrl}/docs`);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toMatch(/swagger/i);
      // Its assets load too (served through @fastify/static).
      const scripts = [...html.matchAll(/src="([^"]+\.js)"/g)].map((m) => m[1]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const src of scripts) {
        const asset = await fetch(new URL(src, `${system.apiUrl}/docs`));
        expect([src, asset.status]).toEqual([src, 200]);
      }
    });

    it('describes every method, GET and POST, with examples', async () => {
      const document = (await (await fetch(`${system.apiUrl}/docs-json`)).json()) as {
        paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
      };
      for (const method of METHODS) {
        const item = document.paths[`/getdata/${method}`];
        expect(item).toBeDefined();
        expect(Object.keys(item)).toEqual(['get', 'post']);
        expect(JSON.stringify(item.get.responses['200'])).toContain('"success"');
        expect(item.post.requestBody).toHaveProperty(['content', 'multipart/form-data']);
      }
      expect(document.paths['/v1/devices/register']).toBeDefined();
    });
  });

  /** Two accounts walk every method with each other's ids: always "not found", nothing changes. */
  describe('tenant isolation', () => {
    let aliceSms: number;
    let aliceTag: number;

    beforeAll(async () => {
      aliceSms = (
        await getdata(system.apiUrl, 'addsms', {
          token: alice.token,
          sendto: '+4915700000009',
          body: 'secret',
          device_id: aliceDevice,
        })
      ).body.sms_id as number;
      aliceTag = (await getdata(system.apiUrl, 'savetag', { token: alice.token, title: 'alice only' })).body
        .tag_id as number;
      await getdata(system.apiUrl, 'savecontact', {
        token: alice.token,
        phone: '+4915700000010',
        ctag_id: aliceTag,
      });
    });

    const snapshot = () =>
      system.query(
        `SELECT (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM tags)::int AS tags,
                (SELECT count(*) FROM contacts)::int AS contacts, (SELECT count(*) FROM contact_tags)::int AS links,
                (SELECT count(*) FROM newsletters)::int AS newsletters, (SELECT count(*) FROM devices)::int AS devices`,
      );

    it.each([
      [
        'addsms',
        () => ({ sendto: '+4915700000001', body: 'x', device_id: aliceDevice }),
        /device_id \d+ not found/,
      ],
      [
        'addalotofsms',
        () => ({
          datajson: JSON.stringify({
            smsdata: [{ sendto: '+4915700000001', body: 'x', device_id: aliceDevice }],
          }),
        }),
        /device_id \d+ not found/,
      ],
      ['getsmsstatus', () => ({ sms_id: aliceSms }), /sms_id \d+ not found/],
      ['getdevicestatus', () => ({ device_id: aliceDevice }), /device_id \d+ not found/],
      ['savecontact', () => ({ phone: '+4915700000002', ctag_id: aliceTag }), /tag \d+ not found/],
      [
        'savepaket',
        () => ({ title: 't', device_id: bobDevice, body: 'b', tags: String(aliceTag) }),
        /tags \d+ not found/,
      ],
      [
        'createpaket',
        () => ({ title: 't', device_id: aliceDevice, body: 'b', tags: String(aliceTag) }),
        /not found/,
      ],
    ])("bob's %s with alice's ids answers not found and changes nothing", async (method, params, message) => {
      const before = await snapshot();
      const answer = await getdata(system.apiUrl, method, { token: bob.token, ...params() });
      expect(answer).toEqual({
        status: 200,
        body: expect.objectContaining({
          error: 1,
          code: 'not_found',
          message: expect.stringMatching(message),
        }),
      });
      expect(await snapshot()).toEqual(before);
    });

    it("bob's listings show nothing of alice's", async () => {
      const all = await getdata(system.apiUrl, 'getallsms', { token: bob.token, limit: 10_000 });
      expect(all.body.smss).toEqual({});
      expect(
        (await getdata(system.apiUrl, 'getallsms', { token: bob.token, device_id: aliceDevice })).body.count,
      ).toBe(0);
      expect(
        (await getdata(system.apiUrl, 'getallsms', { token: bob.token, phone: '+4915700000009' })).body.count,
      ).toBe(0);
      const devices = await getdata(system.apiUrl, 'getalldevices', { token: bob.token });
      expect(Object.keys(devices.body.device as object)).toEqual([String(bobDevice)]);
    });

    it('a foreign id answers exactly like an id that does not exist', async () => {
      const foreign = await getdata(system.apiUrl, 'getsmsstatus', { token: bob.token, sms_id: aliceSms });
      const unknown = await getdata(system.apiUrl, 'getsmsstatus', {
        token: bob.token,
        sms_id: 2_000_000_000,
      });
      expect(foreign.body).toEqual({
        ...unknown.body,
        message: unknown.body.message?.toString().replace('2000000000', String(aliceSms)),
      });
    });
  });
});
