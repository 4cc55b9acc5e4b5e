import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { io, Socket } from 'socket.io-client';
import { registerPhone } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { Account, TestSystem } from '../harness/test-system';

const HTTP_RUNS = 900;
const HTTP_BATCH = 10;
const SOCKET_RUNS = 250;
const SOCKET_BATCH = 4;
const ERROR_CODES = [
  'invalid_token',
  'invalid_credentials',
  'validation',
  'not_found',
  'payload_too_large',
  'rate_limited',
  'idempotency_conflict',
];
const GETDATA = [
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
  'nosuchmethod',
];
const FIELDS = [
  'token',
  'email',
  'pass',
  'device_id',
  'deviceid',
  'sendto',
  'body',
  'sim',
  'timetosend',
  'time_to_send',
  'customerid',
  'urgent',
  'datajson',
  'smsdata',
  'sms_id',
  'id',
  'status',
  'begindate',
  'enddate',
  'timezone',
  'limit',
  'offset',
  'orderbydesc',
  'onlycount',
  'phone',
  'title',
  'tags',
  'ctag_id',
  'name',
  'siminfo',
  'window',
  'delaybetweeneachsms',
  '__proto__',
  'constructor',
  'prototype',
  'a[0][b]',
  'sendto[]',
  '',
];

interface Sent {
  path: string;
  status: number;
  text: string;
}

/**
 * Hostile input (docs/reliability.md): ~9,000 generated HTTP requests over every endpoint and ~1,000
 * generated socket events. Pass: no 5xx, every error in the documented shape, nothing written by a refused
 * request, the apps alive, the API's memory roughly flat.
 */
describe('hostile input (fast-check)', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let aliceDevice: { deviceId: number; secret: string };
  let bobDevice: number;
  let bobMessage: number;
  let bobTag: number;
  const successIds = { messages: new Set<number>(), tags: new Set<number>(), newsletters: new Set<number>() };
  const devices = new Set<number>();
  let contactsSaved = 0;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher', 'status'], { LOG_LEVEL: 'warn' });
    alice = system.createAccount();
    bob = system.createAccount();
    aliceDevice = await registerPhone(system.apiUrl, alice.email, alice.password, 'alice');
    bobDevice = (await registerPhone(system.apiUrl, bob.email, bob.password, 'bob')).deviceId;
    bobMessage = (
      await getdata(system.apiUrl, 'addsms', {
        token: bob.token,
        device_id: bobDevice,
        sendto: '+4915700000001',
        body: 'b',
      })
    ).body.sms_id as number;
    bobTag = (await getdata(system.apiUrl, 'savetag', { token: bob.token, title: 'bob' })).body
      .tag_id as number;
  });

  afterAll(async () => {
    await system?.stop();
  });

  const counts = async () =>
    (
      await system.query<Record<string, number>>(
        `SELECT (SELECT count(*)::int FROM messages) AS messages, (SELECT count(*)::int FROM tags) AS tags,
                (SELECT count(*)::int FROM newsletters) AS newsletters, (SELECT count(*)::int FROM devices) AS devices,
                (SELECT count(*)::int FROM contacts) AS contacts`,
      )
    )[0];

  const bobState = async () =>
    system.query(
      `SELECT m.id, m.status, m.body, m.device_id, (SELECT count(*) FROM message_events e WHERE e.message_id = m.id) AS events,
              
              (SELECT title FROM devices WHERE id = m.device_id) AS device_title
         FROM messages m WHERE m.id = $1`,
      [bobMessage],
    );

  const rssKb = () => {
    const pid = system.processes.get('api')?.pid;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  };

  function value(): fc.Arbitrary<unknown> {
    const foreign = fc
      .constantFrom(
        () => bobDevice,
        () => bobMessage,
        () => bobTag,
      )
      .map((f) => f());
    const scalar = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.constantFrom(
        '',
        ' ',
        '\u0000',
        'a\u0000b',
        '0',
        '-1',
        '1e309',
        'NaN',
        'null',
        'true',
        '[]',
        '{}',
        '+4915752982212',
        ' 4915752982212',
        '+49 (0)157 5298-2212',
        '2019-07-01 23:50:00',
        '9999-12-31 23:59:59',
        '0000-00-00',
        '31.02.2024 25:61:61',
        '1970-01-01',
        'Europe/Paris',
        '+99',
        '\ud800',
        '‮',
        'x'.repeat(5_000),
      ),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      foreign,
      fc.constantFrom(() => aliceDevice.deviceId).map((f) => f()),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.array(tie('tree'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom(...FIELDS), tie('tree'), { maxKeys: 3 }),
      ),
    }));
    return tree;
  }

  const bulkItem = fc.record(
    {
      sendto: fc.oneof(fc.constant('+4915700000002'), value()),
      body: fc.oneof(fc.constant('hi'), value()),
      device_id: fc.oneof(
        fc.constantFrom(() => aliceDevice.deviceId).map((f) => f()),
        value(),
      ),
      sim: value(),
      timetosend: value(),
      urgent: value(),
    },
    { requiredKeys: [] },
  );
  /** A valid addsms/savetag/savecontact request with one field replaced: some pass, most do not. */
  const nearValid = fc.dictionary(fc.constantFrom(...FIELDS), value(), { maxKeys: 1 }).map((override) => ({
    device_id: aliceDevice.deviceId,
    sendto: '+4915700000003',
    body: 'near',
    title: 'near',
    phone: '+4915700000004',
    ...override,
  }));
  const randomParams = fc
    .tuple(
      fc.dictionary(fc.constantFrom(...FIELDS), value(), { maxKeys: 6 }),
      fc.option(fc.array(bulkItem, { maxLength: 4 }), { nil: undefined }),
    )
    .map(([fields, items]) =>
      items ? { ...fields, datajson: JSON.stringify({ token: alice.token, smsdata: items }) } : fields,
    );
  const params = fc.oneof(
    { weight: 3, arbitrary: randomParams },
    { weight: 1, arbitrary: nearValid as fc.Arbitrary<Record<string, unknown>> },
  );

  const request = fc.record({
    target: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...GETDATA).map((m) => `/getdata/${m}`) },
      { weight: 1, arbitrary: fc.constant('/v1/devices/register') },
      {
        weight: 1,
        arbitrary: fc
          .oneof(fc.constantFrom('1', '0', '-1', 'x', '99999999999', '%00'), fc.nat().map(String))
          .map((id) => `/v1/devices/${id}/settings`),
      },
      {
        weight: 1,
        arbitrary: fc.string({ maxLength: 20 }).map((name) => `/files/${encodeURIComponent(name) || 'x'}`),
      },
    ),
    auth: fc.constantFrom(
      'alice',
      'alice',
      'alice',
      'alice',
      'alice',
      'bob',
      'none',
      'garbage',
      'bearer',
      'credentials',
    ),
    encoding: fc.constantFrom('query', 'form', 'json', 'multipart', 'raw', 'dup-keys'),
    params,
    rawBody: fc.uint8Array({ maxLength: 64 }),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      '',
    ),
    idempotencyKey: fc.option(fc.oneof(fc.constantFrom('k1', 'k2'), fc.string({ maxLength: 10 })), {
      nil: undefined,
    }),
  });

  type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

  async function send(r: Generated): Promise<Sent> {
    const p: Record<string, unknown> = { ...r.params };
    const headers: Record<string, string> = {};
    if (r.auth === 'alice') p.token = alice.token;
    else if (r.auth === 'bob') p.token = bob.token;
    else if (r.auth === 'garbage') p.token = 'garbage';
    else if (r.auth === 'bearer') headers.authorization = `Bearer ${alice.token}`;
    else if (r.auth === 'credentials') Object.assign(p, { email: alice.email, pass: alice.password });
    if (r.idempotencyKey !== undefined && /^[\x20-\x7e]*$/.test(r.idempotencyKey))
      headers['idempotency-key'] = r.idempotencyKey;
    const flat = Object.entries(p).map(
      ([k, v]) => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')] as const,
    );
    const path = r.target;
    const method = path.startsWith('/files/')
      ? 'GET'
      : path.startsWith('/v1/') || r.encoding !== 'query'
        ? 'POST'
        : 'GET';
    let url = `${system.apiUrl}${path}`;
    let body: string | URLSearchParams | FormData | Buffer | undefined;
    if (method === 'GET' || r.encoding === 'query')
      url += `?${new URLSearchParams(flat.map(([k, v]): [string, string] => [k, v]))}`;
    else if (r.encoding === 'form')
      body = new URLSearchParams(flat.map(([k, v]): [string, string] => [k, v]));
    else if (r.encoding === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(p);
    } else if (r.encoding === 'multipart') {
      const form = new FormData();
      for (const [k, v] of flat) form.append(k, v);
      body = form;
    } else if (r.encoding === 'dup-keys') {
      // Duplicate keys, the second one hostile: JSON.parse keeps the last.
      headers['content-type'] = 'application/json';
      const pairs = flat.flatMap(([k, v]) => [
        `${JSON.stringify(k)}:${JSON.stringify(v)}`,
        `${JSON.stringify(k)}:[${JSON.stringify(v)}]`,
      ]);
      body = `{${[`"token":${JSON.stringify(alice.token)}`, ...pairs].join(',')}}`;
    } else {
      if (r.contentType) headers['content-type'] = r.contentType;
      body = Buffer.from(r.rawBody);
    }
    const response = await fetch(url, { method, headers, body });
    return { path, status: response.status, text: await response.text() };
  }

  function expectWellFormed(sent: Sent) {
    const context = `${sent.path} → ${sent.status} ${sent.text.slice(0, 300)}`;
    if (sent.status >= 500) throw new Error(`5xx: ${context}`);
    if (sent.path.startsWith('/files/') && sent.status === 200) return;
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(sent.text) as Record<string, unknown>;
    } catch {
      throw new Error(`not JSON: ${context}`);
    }
    if (answer.error === 1) {
      if (typeof answer.message !== 'string' || !ERROR_CODES.includes(answer.code as string))
        throw new Error(`error not in the documented shape: ${context}`);
      if (/\n\s+at /.test(answer.message)) throw new Error(`stack trace: ${context}`);
      if (sent.path.startsWith('/getdata/') && sent.status !== 200)
        throw new Error(`not HTTP 200: ${context}`);
      if (!sent.path.startsWith('/getdata/') && sent.status < 400)
        throw new Error(`error with 2xx: ${context}`);
    } else if (answer.error === 0) {
      record(sent.path, answer);
    } else throw new Error(`neither error 0 nor 1: ${context}`);
  }

  /** What a successful answer wrote, by its ids (a replay by Idempotency-Key writes nothing new). */
  function record(path: string, answer: Record<string, unknown>) {
    const method = path.split('/').pop();
    if (['addsms', 'smstosend', 'addalotofsms'].includes(method as string))
      for (const id of (answer.sms_ids as number[] | undefined) ?? [answer.sms_id as number])
        successIds.messages.add(id);
    if (method === 'savetag') successIds.tags.add(answer.tag_id as number);
    if (method === 'savepaket' || method === 'createpaket')
      successIds.newsletters.add(answer.paket_id as number);
    if (method === 'savecontact') contactsSaved++;
    if (path === '/v1/devices/register') devices.add(answer.device_id as number);
  }

  it('HTTP: no 5xx, the documented error shape, nothing written by a refusal, memory flat', async () => {
    const before = await counts();
    const bobBefore = await bobState();
    let sent = 0;
    let rssWarm = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: HTTP_BATCH, maxLength: HTTP_BATCH }), async (batch) => {
        const answers = await Promise.all(batch.map(send));
        answers.forEach(expectWellFormed);
        sent += answers.length;
        if (rssWarm === 0 && sent >= 1_000) rssWarm = rssKb();
      }),
      { numRuns: HTTP_RUNS, endOnFailure: true },
    );
    const after = await counts();
    expect(after.messages - before.messages).toBe(successIds.messages.size);
    expect(after.tags - before.tags).toBe(successIds.tags.size);
    expect(after.newsletters - before.newsletters).toBe(successIds.newsletters.size);
    expect(after.devices - before.devices).toBe(devices.size);
    expect(after.contacts - before.contacts).toBeLessThanOrEqual(contactsSaved);
    expect(await bobState()).toEqual(bobBefore);
    expect(system.processes.get('api')?.exitCode).toBeNull();
    expect((await fetch(`${system.apiUrl}/health/live`)).ok).toBe(true);
    const rssEnd = rssKb();
    reportFigure('hostile-http', {
      requests: sent,
      rssWarmKb: rssWarm,
      rssEndKb: rssEnd,
      messagesWritten: successIds.messages.size,
      tagsWritten: successIds.tags.size,
    });
    expect(sent).toBeGreaterThanOrEqual(HTTP_RUNS * HTTP_BATCH);
    // Some requests pass: "nothing written by a refusal" is checked against real writes.
    expect(successIds.messages.size + successIds.tags.size).toBeGreaterThan(0);
    // Roughly flat: no growth with the number of requests (a leak of even 10 kB per request would show).
    expect(rssEnd).toBeLessThan(rssWarm * 1.5 + 50_000);
  }, 300_000);

  it('NUL and lone surrogates in every string field of every route, in every encoding: refused by name, nothing stored', async () => {
    const before = await counts();
    const token = { token: alice.token };
    const device = aliceDevice.deviceId;
    const tag = (await getdata(system.apiUrl, 'savetag', { ...token, title: 'walk' })).body.tag_id as number;
    /** Each route with a valid request, and every field it reads. */
    const routes: Array<{ path: string; base: Record<string, unknown>; fields: string[] }> = [
      {
        path: '/getdata/gettoken',
        base: { email: alice.email, pass: alice.password },
        fields: ['email', 'pass'],
      },
      {
        path: '/getdata/addsms',
        base: { ...token, device_id: device, sendto: '+4915700000009', body: 'walk' },
        fields: ['token', 'device_id', 'sendto', 'body', 'sim', 'timetosend', 'customerid', 'urgent'],
      },
      {
        path: '/getdata/smstosend',
        base: {
          email: alice.email,
          pass: alice.password,
          device_id: device,
          sendto: '+4915700000009',
          body: 'w',
        },
        fields: ['email', 'pass', 'sendto', 'body', 'time_to_send'],
      },
      {
        path: '/getdata/getallsms',
        base: token,
        fields: [
          'begindate',
          'enddate',
          'phone',
          'timezone',
          'status',
          'device_id',
          'sim',
          'customerid',
          'limit',
          'offset',
          'orderbydesc',
          'onlycount',
        ],
      },
      { path: '/getdata/getsmsstatus', base: { ...token, sms_id: 1 }, fields: ['sms_id'] },
      { path: '/getdata/savetag', base: { ...token, title: 't' }, fields: ['title'] },
      {
        path: '/getdata/savecontact',
        base: { ...token, phone: '+4915700000010', ctag_id: tag, name: 'n' },
        fields: ['phone', 'ctag_id', 'name'],
      },
      {
        path: '/getdata/savepaket',
        base: { ...token, title: 't', device_id: device, body: 'b', tags: String(tag) },
        fields: ['title', 'body', 'tags', 'time_to_send', 'sim', 'device_id'],
      },
      { path: '/getdata/getalldevices', base: token, fields: ['timezone'] },
      {
        path: '/getdata/getdevicestatus',
        base: { ...token, device_id: device },
        fields: ['timezone', 'device_id'],
      },
      {
        path: '/v1/devices/register',
        base: { ...token, title: 'walk' },
        fields: ['title', 'imei', 'serialnumber', 'appversion', 'siminfo'],
      },
      {
        path: `/v1/devices/${device}/settings`,
        base: { ...token, window: 2 },
        fields: ['window', 'delaybetweeneachsms'],
      },
    ];
    const bad = [
      { value: 'a\u0000b', problem: 'NUL', encodings: ['query', 'form', 'json', 'multipart'] },
      // Only JSON can carry a lone surrogate: URL and multipart encoding turn it into U+FFFD first.
      { value: 'a\ud800b', problem: 'surrogate', encodings: ['json'] },
    ];
    let sent = 0;
    const refuse = async (path: string, params: Record<string, unknown>, encoding: string, field: string) => {
      const own = path.startsWith('/v1/');
      if (own && encoding === 'query') return;
      const strings = Object.entries(params).map(([k, v]): [string, string] => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]);
      let response: Response;
      if (encoding === 'query')
        response = await fetch(`${system.apiUrl}${path}?${new URLSearchParams(strings)}`);
      else if (encoding === 'form')
        response = await fetch(`${system.apiUrl}${path}`, {
          method: 'POST',
          body: new URLSearchParams(strings),
        });
      else if (encoding === 'json')
        response = await fetch(`${system.apiUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(params),
        });
      else {
        const form = new FormData();
        for (const [k, v] of strings) form.append(k, v);
        response = await fetch(`${system.apiUrl}${path}`, { method: 'POST', body: form });
      }
      sent++;
      const text = await response.text();
      const context = `${path} ${field} ${encoding} → ${response.status} ${text.slice(0, 200)}`;
      expect([context, response.status < 500]).toEqual([context, true]);
      const answer = JSON.parse(text) as Record<string, unknown>;
      // A token outside the body of a route that may take a large one is checked before the body: invalid.
      const codes = field === 'token' ? ['validation', 'invalid_token'] : ['validation'];
      expect([context, answer.error, codes.includes(answer.code as string)]).toEqual([context, 1, true]);
      expect([context, String(answer.message).toLowerCase().includes(field.toLowerCase())]).toEqual([
        context,
        true,
      ]);
    };
    for (const route of routes)
      for (const field of route.fields)
        for (const { value, encodings } of bad)
          for (const encoding of encodings)
            await refuse(route.path, { ...route.base, [field]: value }, encoding, field);
    // Inside a bulk request's items, and inside siminfo's slots.
    for (const field of ['sendto', 'body', 'timetosend', 'sim', 'urgent', 'customerid'])
      for (const { value, encodings } of bad) {
        const item = { sendto: '+4915700000011', body: 'w', device_id: device, [field]: value };
        for (const encoding of encodings)
          await refuse(
            '/getdata/addalotofsms',
            { datajson: JSON.stringify({ ...token, smsdata: [item] }) },
            encoding,
            field,
          );
        await refuse('/getdata/addalotofsms', { ...token, smsdata: [item] }, 'json', field);
      }
    for (const field of ['IccId', 'Number', 'CountryIso', 'CarrierName'])
      for (const { value } of bad)
        await refuse(
          '/v1/devices/register',
          { ...token, title: 'w', siminfo: [{ Slot: 0, [field]: value }] },
          'json',
          field,
        );
    const after = await counts();
    expect({ ...after, tags: after.tags - 1 }).toEqual(before);
    reportFigure('hostile-string-fields', { requests: sent });
    expect(sent).toBeGreaterThan(250);
  });

  it('socket events: every ack in the documented shape, nothing foreign changed, the dispatcher alive', async () => {
    const bobBefore = await bobState();
    // One socket per phone: a second connection of the same phone replaces the first (one session each).
    const phones = [aliceDevice];
    for (let k = 1; k < SOCKET_BATCH; k++)
      phones.push(await registerPhone(system.apiUrl, alice.email, alice.password, `alice ${k}`));
    const sockets: Socket[] = await Promise.all(
      phones.map(
        (phone) =>
          new Promise<Socket>((resolve, reject) => {
            const socket = io(`${system.dispatcherUrl}/devices`, {
              transports: ['websocket'],
              auth: { ...phone, protocol: 1 },
              reconnection: true,
            });
            socket.once('connect', () => resolve(socket));
            socket.once('connect_error', reject);
          }),
      ),
    );
    const event = fc.record({
      name: fc.constantFrom('hello', 'status', 'incoming', 'sms', 'settings', 'nosuchevent'),
      payload: fc.oneof(
        value(),
        fc.record(
          {
            id: fc.oneof(fc.constant(bobMessage), value()),
            status: fc.oneof(fc.constantFrom(6, 7, 8, 202, 5, 1), value()),
            at: value(),
            error: value(),
          },
          { requiredKeys: [] },
        ),
        fc.record({ from: value(), body: value(), sim: value(), receivedAt: value() }, { requiredKeys: [] }),
      ),
    });
    let emitted = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(event, { minLength: SOCKET_BATCH, maxLength: SOCKET_BATCH }),
          async (events) => {
            const acks = await Promise.all(
              events.map((e, index) => {
                const socket = sockets[index];
                if (!socket.connected) return Promise.resolve({ skipped: true } as unknown);
                // Events the server does not handle get no ack: sent, not awaited.
                if (['sms', 'settings', 'nosuchevent'].includes(e.name)) {
                  socket.emit(e.name, e.payload);
                  return Promise.resolve(undefined);
                }
                return socket
                  .timeout(5_000)
                  .emitWithAck(e.name, e.payload)
                  .catch((error: Error) => ({ timeout: error.message, name: e.name }));
              }),
            );
            emitted += events.length;
            events.forEach((e, index) => {
              const ack = acks[index] as Record<string, unknown> | undefined;
              // Unknown or server-to-phone events get no ack; the socket stays usable.
              if (['sms', 'settings', 'nosuchevent'].includes(e.name)) return;
              if (ack && 'skipped' in ack) return;
              if (!ack || typeof ack !== 'object' || 'timeout' in ack)
                throw new Error(`no ack for ${e.name} ${JSON.stringify(e.payload)?.slice(0, 200)}`);
              if (e.name === 'hello') {
                if (ack.ok !== true) throw new Error(`hello refused: ${JSON.stringify(ack)}`);
              } else if (!(ack.ok === true || (ack.ok === false && typeof ack.error === 'string')))
                throw new Error(`ack not in the documented shape: ${JSON.stringify(ack)}`);
              if (e.name === 'incoming' && ack.ok === true) successIds.messages.add(ack.id as number);
            });
          },
        ),
        { numRuns: SOCKET_RUNS, endOnFailure: true },
      );
    } finally {
      for (const socket of sockets) socket.disconnect();
    }
    // Reports go through the status app: give it time, then bob's message must be as it was.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await bobState()).toEqual(bobBefore);
    expect(system.processes.get('dispatcher')?.exitCode).toBeNull();
    expect((await fetch(`${system.dispatcherUrl}/health/live`)).ok).toBe(true);
    expect(emitted).toBeGreaterThanOrEqual(SOCKET_RUNS * SOCKET_BATCH);
    reportFigure('hostile-socket', { events: emitted });
  }, 120_000);
});
