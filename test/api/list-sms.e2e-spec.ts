import { registerPhone } from '../../tools/simulator/fleet';
import { ENCODINGS, getdata, getdataText, postJson } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';

/** getallsms: shapes, every filter, time zones, order on the wire, paging, count. */
describe('getallsms', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let dev1: number;
  let dev2: number;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    system = await TestSystem.start(['api']);
    alice = system.createAccount();
    bob = system.createAccount();
    dev1 = (await registerPhone(system.apiUrl, alice.email, alice.password, 'one')).deviceId;
    dev2 = (await registerPhone(system.apiUrl, alice.email, alice.password, 'two')).deviceId;
    await registerPhone(system.apiUrl, bob.email, bob.password, 'bob');
    // Four messages with known creation times (UTC), statuses and fields.
    const add = async (
      name: string,
      params: Record<string, string | number>,
      createdUtc: string,
      status = 1,
    ) => {
      const answer = await getdata(system.apiUrl, 'addsms', { token: alice.token, body: name, ...params });
      ids[name] = answer.body.sms_id as number;
      await system.query(`UPDATE messages SET created_at = $2, status = $3 WHERE id = $1`, [
        ids[name],
        createdUtc,
        status,
      ]);
    };
    await add('a', { sendto: '+49 157 52982212', device_id: dev1, sim: 0 }, '2026-03-01T10:00:00Z');
    await add(
      'b',
      { sendto: '015752982213', device_id: dev1, sim: 1, customerid: 77 },
      '2026-03-01T23:30:00Z',
      7,
    );
    await add(
      'c',
      { sendto: '+4915752982214', device_id: dev2, sim: 0, urgent: 1 },
      '2026-03-02T00:30:00Z',
      7,
    );
    await add(
      'd',
      { sendto: '+4915752982212', device_id: dev2, sim: 1, customerid: 77 },
      '2026-03-03T12:00:00Z',
      9,
    );
    await system.query(`UPDATE messages SET sent_at = '2026-03-02T00:31:00Z' WHERE id = $1`, [ids.c]);
  });

  afterAll(async () => {
    await system?.stop();
  });

  const list = (params: Record<string, string | number>, encoding: (typeof ENCODINGS)[number] = 'get') =>
    getdata(system.apiUrl, 'getallsms', { token: alice.token, ...params }, encoding);
  const idsOf = (body: Record<string, unknown>) => Object.keys(body.smss as object).map(Number);

  it('answers every field of a message exactly (UTC account)', async () => {
    const answer = await list({ customerid: 77, device_id: dev2 });
    expect(answer).toEqual({
      status: 200,
      body: {
        error: 0,
        message: 'Ok',
        count: 1,
        smss: {
          [ids.d]: {
            id: ids.d,
            sendto: '+4915752982212',
            body: 'd',
            customerid: 77,
            status: 9,
            statustitle: 'Not SENT - Generic failure',
            deviceid: dev2,
            sim: 1,
            urgent: 0,
            created: { date: '2026-03-03 12:00:00.000000', timezone_type: 3, timezone: 'UTC' },
            senttime: null,
            timetosend: expect.objectContaining({ timezone_type: 3, timezone: 'UTC' }),
            paketid: null,
            pakettitle: null,
            paketbody: null,
          },
        },
      },
    });
  });

  it('lists a message sent without timetosend with timetosend equal to its creation and customerid null', async () => {
    const added = await getdata(system.apiUrl, 'addsms', {
      token: bob.token,
      sendto: '+4915700000001',
      body: 'now',
      device_id: (
        await system.query<{ id: number }>(
          `SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id WHERE u.email = $1`,
          [bob.email],
        )
      )[0].id,
    });
    const answer = await getdata(system.apiUrl, 'getallsms', { token: bob.token });
    const row = (answer.body.smss as Record<string, Record<string, unknown>>)[String(added.body.sms_id)];
    expect(row.customerid).toBeNull();
    expect(row.timetosend).toEqual(row.created);
    expect(row.urgent).toBe(0);
  });

  it('keeps the order orderbydesc asks for on the wire', async () => {
    const ascending = await getdataText(system.apiUrl, 'getallsms', { token: alice.token });
    const descending = await getdataText(system.apiUrl, 'getallsms', { token: alice.token, orderbydesc: 1 });
    const keys = (text: string) => [...text.matchAll(/"(\d+)":\{"id"/g)].map((m) => Number(m[1]));
    const all = [ids.a, ids.b, ids.c, ids.d];
    expect(keys(ascending.text)).toEqual(all);
    expect(keys(descending.text)).toEqual([...all].reverse());
    expect(JSON.parse(descending.text).count).toBe(4);
  });

  describe.each(ENCODINGS)('filters over %s', (encoding) => {
    it.each([
      ['device_id', () => ({ device_id: dev1 }), () => [ids.a, ids.b]],
      ['status', () => ({ status: 7 }), () => [ids.b, ids.c]],
      ['sim', () => ({ sim: '1' }), () => [ids.b, ids.d]],
      ['customerid', () => ({ customerid: 77 }), () => [ids.b, ids.d]],
      ['customerId (alias)', () => ({ customerId: '77' }), () => [ids.b, ids.d]],
      ['phone in E.164', () => ({ phone: '+4915752982212' }), () => [ids.a, ids.d]],
      ['phone written with 00 and spaces', () => ({ phone: '0049 157 52982212' }), () => [ids.a, ids.d]],
      ['phone with a national (0) inside', () => ({ phone: '+49 (0)157 52982212' }), () => [ids.a, ids.d]],
      ['phone as dialled nationally', () => ({ phone: '015752982213' }), () => [ids.b]],
      ['begindate (inclusive)', () => ({ begindate: '2026-03-02 00:30:00' }), () => [ids.c, ids.d]],
      ['enddate as a day (the whole day)', () => ({ enddate: '2026-03-01' }), () => [ids.a, ids.b]],
      ['enddate with a time (inclusive)', () => ({ enddate: '2026-03-01 10:00:00' }), () => [ids.a]],
      [
        'a date range',
        () => ({ begindate: '2026-03-01 12:00', enddate: '2026-03-02' }),
        () => [ids.b, ids.c],
      ],
      ['dates in a named zone', () => ({ enddate: '2026-03-01', timezone: 'Europe/Berlin' }), () => [ids.a]],
      [
        'dates at an hour offset',
        () => ({ begindate: '2026-03-02', timezone: '+2' }),
        () => [ids.b, ids.c, ids.d],
      ],
      ['several filters at once', () => ({ device_id: dev2, status: 9, sim: 1 }), () => [ids.d]],
    ])('by %s', async (_name, params, expected) => {
      const answer = await list(params(), encoding);
      expect(answer.body).toMatchObject({ error: 0, count: expected().length });
      expect(idsOf(answer.body)).toEqual(expected());
    });
  });

  it('restores a + that arrived as a space in a GET phone filter', async () => {
    const response = await fetch(
      `${system.apiUrl}/getdata/getallsms?token=${alice.token}&phone=+4915752982212`,
    );
    const body = (await response.json()) as Record<string, unknown>;
    expect(idsOf(body)).toEqual([ids.a, ids.d]);
  });

  it('shows dates in the zone asked for: a name as type 3, an offset as type 1', async () => {
    const named = await list({ device_id: dev2, status: 7, timezone: 'Australia/Sydney' });
    const row = (named.body.smss as Record<string, Record<string, unknown>>)[ids.c];
    expect(row.created).toEqual({
      date: '2026-03-02 11:30:00.000000',
      timezone_type: 3,
      timezone: 'Australia/Sydney',
    });
    expect(row.senttime).toEqual({
      date: '2026-03-02 11:31:00.000000',
      timezone_type: 3,
      timezone: 'Australia/Sydney',
    });
    const offset = await list({ device_id: dev2, status: 7, timezone: '+5.5' });
    expect((offset.body.smss as Record<string, Record<string, unknown>>)[ids.c].created).toEqual({
      date: '2026-03-02 06:00:00.000000',
      timezone_type: 1,
      timezone: '+05:30',
    });
  });

  it('answers only the count with onlycount', async () => {
    expect((await list({ onlycount: 1, sim: 0 })).body).toEqual({ error: 0, message: 'Ok', count: 2 });
  });

  it('pages with limit and offset; count is that of all matches', async () => {
    const page = await list({ limit: 2, offset: 1 });
    expect(page.body.count).toBe(4);
    expect(idsOf(page.body)).toEqual([ids.b, ids.c]);
    const back = await getdataText(system.apiUrl, 'getallsms', {
      token: alice.token,
      limit: 3,
      orderbydesc: 1,
    });
    expect([...back.text.matchAll(/"(\d+)":\{"id"/g)].map((m) => Number(m[1]))).toEqual([
      ids.d,
      ids.c,
      ids.b,
    ]);
    expect(idsOf((await list({ offset: 10 })).body)).toEqual([]);
  });

  it('answers at most 1,000 rows by default and 10,000 at most', async () => {
    const account = system.createAccount();
    const device = (await registerPhone(system.apiUrl, account.email, account.password, 'many')).deviceId;
    const smsdata = Array.from({ length: 1_005 }, (_, i) => ({
      sendto: `+4915${i + 1000000}`,
      body: 'x',
      device_id: device,
    }));
    expect(
      (await postJson(system.apiUrl, 'addalotofsms', { token: account.token, smsdata })).body.error,
    ).toBe(0);
    const first = await getdata(system.apiUrl, 'getallsms', { token: account.token });
    expect(first.body.count).toBe(1_005);
    expect(Object.keys(first.body.smss as object)).toHaveLength(1_000);
    const all = await getdata(system.apiUrl, 'getallsms', { token: account.token, limit: 10_000 });
    expect(Object.keys(all.body.smss as object)).toHaveLength(1_005);
  });

  it.each([
    ['a garbage begindate', { begindate: 'yesterday' }, /begindate must be a date/],
    ['an impossible enddate', { enddate: '2026-02-30' }, /enddate must be a date/],
    [
      'a range that ends before it begins',
      { begindate: '2026-03-02', enddate: '2026-03-01 10:00' },
      /begindate must be before enddate/,
    ],
    ['an unknown time zone', { timezone: 'Mars/Olympus' }, /timezone must be a zone name/],
    ['an offset beyond 14 hours', { timezone: '15' }, /timezone must be/],
    ['a non-numeric status', { status: 'sent' }, /status must be a whole number/],
    ['a sim out of range', { sim: 6 }, /sim must be between 0 and 5/],
    ['a limit over 10,000', { limit: 10_001 }, /limit must be between 1 and 10000/],
    ['a negative offset', { offset: -1 }, /offset must be between/],
    ['a phone that is no number', { phone: 'bob' }, /phone "bob" is not a phone number/],
    ['a bad orderbydesc', { orderbydesc: 'up' }, /orderbydesc must be 1 or 0/],
  ])('rejects %s', async (_name, params, message) => {
    expect(await list(params)).toEqual({
      status: 200,
      body: { error: 1, code: 'validation', message: expect.stringMatching(message) },
    });
  });

  it("shows another account nothing of alice's, even when it filters by her device", async () => {
    const own = await getdata(system.apiUrl, 'getallsms', { token: bob.token, device_id: dev1 });
    expect(own.body).toEqual({ error: 0, message: 'Ok', count: 0, smss: {} });
    const listed = await getdata(system.apiUrl, 'getallsms', { token: bob.token, limit: 10_000 });
    for (const id of Object.values(ids))
      expect(Object.keys(listed.body.smss as object)).not.toContain(String(id));
  });

  it('requires a token', async () => {
    expect((await getdata(system.apiUrl, 'getallsms', {})).body).toMatchObject({
      error: 1,
      code: 'invalid_token',
    });
  });
});
