import { io } from 'socket.io-client';
import { registerPhone } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';

/** Every bad request gets a clear `{"error":1,"message":...}` with the documented HTTP status, and writes nothing. */
describe('bad input', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let aliceDevice: number;
  let bobDevice: { deviceId: number; secret: string };

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher']);
    alice = system.createAccount();
    bob = system.createAccount();
    aliceDevice = (await registerPhone(system.apiUrl, alice.email, alice.password, 'alice phone')).deviceId;
    bobDevice = await registerPhone(system.apiUrl, bob.email, bob.password, 'bob phone');
  });

  afterAll(async () => {
    await system?.stop();
  });

  async function messageCount(): Promise<number> {
    const [{ count }] = await system.query<{ count: number }>('SELECT count(*)::int AS count FROM messages');
    return count;
  }

  const valid = () => ({
    token: alice.token,
    sendto: '+4915752982212',
    body: 'hi',
    device_id: aliceDevice,
    sim: 0,
  });

  const cases: Array<[string, () => Record<string, string | number>, RegExp, string]> = [
    ['a wrong token', () => ({ ...valid(), token: 'f'.repeat(64) }), /token is invalid/i, 'invalid_token'],
    ['a malformed token', () => ({ ...valid(), token: 'not-a-token' }), /token is invalid/i, 'invalid_token'],
    [
      'no token at all',
      () => ({ sendto: '+4915752982212', body: 'hi', device_id: aliceDevice }),
      /token is required/,
      'invalid_token',
    ],
    [
      'a wrong password',
      () => ({
        email: alice.email,
        pass: 'wrong password',
        sendto: '+4915752982212',
        body: 'hi',
        device_id: aliceDevice,
      }),
      /Login or password incorrect/,
      'invalid_credentials',
    ],
    ['a missing sendto', () => ({ ...valid(), sendto: '' }), /sendto is required/, 'validation'],
    [
      'a missing body',
      () => {
        const { body: _body, ...rest } = valid();
        return rest;
      },
      /body is required/,
      'validation',
    ],
    [
      'a missing device_id',
      () => {
        const { device_id: _id, ...rest } = valid();
        return rest;
      },
      /device_id is required/,
      'validation',
    ],
    [
      'a non-numeric device_id',
      () => ({ ...valid(), device_id: 'abc' }),
      /device_id must be a whole number/,
      'validation',
    ],
    [
      'a device of another account',
      () => ({ ...valid(), device_id: bobDevice.deviceId }),
      /not found/,
      'not_found',
    ],
    ['an unknown device', () => ({ ...valid(), device_id: 999999 }), /not found/, 'not_found'],
    ['an unknown sim', () => ({ ...valid(), sim: 7 }), /sim must be between 0 and 5/, 'validation'],
    ['a non-numeric sim', () => ({ ...valid(), sim: 'two' }), /sim must be a whole number/, 'validation'],
    [
      'a bad number among good ones',
      () => ({ ...valid(), sendto: '+4915752982212,call me' }),
      /"call me" is not a phone number/,
      'validation',
    ],
    [
      'a garbage date',
      () => ({ ...valid(), timetosend: 'next tuesday' }),
      /timetosend must be a date/,
      'validation',
    ],
    ['a bad urgent flag', () => ({ ...valid(), urgent: 'maybe' }), /urgent must be 1 or 0/, 'validation'],
    [
      'a body that is too long',
      () => ({ ...valid(), body: 'x'.repeat(5_000) }),
      /body is too long/,
      'validation',
    ],
  ];

  describe.each(['get', 'form', 'json', 'multipart'] as const)('addsms over %s', (encoding) => {
    it.each(cases)(
      'rejects %s with HTTP 200, error 1 and a clear message, writing nothing',
      async (_name, params, message, code) => {
        const before = await messageCount();
        const answer = await getdata(system.apiUrl, 'addsms', params(), encoding);
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual({ error: 1, message: expect.stringMatching(message), code });
        expect(await messageCount()).toBe(before);
      },
    );
  });

  it('gettoken with a wrong password answers as the original service does', async () => {
    const answer = await getdata(system.apiUrl, 'gettoken', { email: alice.email, pass: 'nope' });
    expect(answer).toEqual({
      status: 200,
      body: { error: 1, message: 'Login or password incorrect', code: 'invalid_credentials' },
    });
  });

  it('gettoken for an unknown account says the same (no account enumeration)', async () => {
    const answer = await getdata(system.apiUrl, 'gettoken', { email: 'nobody@example.com', pass: 'nope' });
    expect(answer.body).toEqual({
      error: 1,
      message: 'Login or password incorrect',
      code: 'invalid_credentials',
    });
  });

  it('getsmsstatus with a non-numeric id, an unknown id and another account’s id', async () => {
    const added = await getdata(system.apiUrl, 'addsms', { ...valid(), token: alice.token });
    const aliceSms = added.body.sms_id as number;
    expect(
      (await getdata(system.apiUrl, 'getsmsstatus', { token: alice.token, sms_id: 'x1' })).body,
    ).toMatchObject({ error: 1, code: 'validation' });
    expect(
      (await getdata(system.apiUrl, 'getsmsstatus', { token: alice.token, sms_id: 987654321 })).body,
    ).toMatchObject({ error: 1, code: 'not_found' });
    expect(
      (await getdata(system.apiUrl, 'getsmsstatus', { token: bob.token, sms_id: aliceSms })).body,
    ).toEqual({
      error: 1,
      message: `sms_id ${aliceSms} not found`,
      code: 'not_found',
    });
  });

  it('answers a malformed JSON body with a clear error, not a 500', async () => {
    const response = await fetch(`${system.apiUrl}/getdata/addsms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"token":',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ error: 1, code: 'validation' });
  });

  it('answers a truncated multipart body as a validation error, not a 500', async () => {
    const response = await fetch(`${system.apiUrl}/getdata/gettoken`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nabc',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ error: 1, code: 'validation' });
  });

  it('answers headers or a URL too large for the HTTP parser in the documented shape', async () => {
    // On /getdata/ with HTTP 200, as every error there (docs/api.md); test/security/hostile-input found the 431.
    const response = await fetch(`${system.apiUrl}/getdata/getalldevices?token=${'x'.repeat(20_000)}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      error: 1,
      code: 'payload_too_large',
      message: 'request headers or URL too large',
    });
    const own = await fetch(`${system.apiUrl}/v1/devices?token=${'x'.repeat(20_000)}`);
    expect(own.status).toBe(431);
  });

  it('answers an unknown method with a clear error', async () => {
    const answer = await getdata(system.apiUrl, 'sendeverything', { token: alice.token });
    expect(answer).toEqual({
      status: 200,
      body: { error: 1, message: 'no such endpoint: GET /getdata/sendeverything', code: 'not_found' },
    });
  });

  it('device registration uses the usual HTTP statuses on our own surface', async () => {
    const wrong = await fetch(`${system.apiUrl}/v1/devices/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: alice.email, pass: 'wrong' }),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      error: 1,
      message: 'Login or password incorrect',
      code: 'invalid_credentials',
    });
    const badSims = await fetch(`${system.apiUrl}/v1/devices/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: alice.email, pass: alice.password, siminfo: 'nope' }),
    });
    expect(badSims.status).toBe(400);
    expect(await badSims.json()).toMatchObject({
      error: 1,
      code: 'validation',
      message: expect.stringMatching(/siminfo/),
    });
    const [{ count }] = await system.query<{ count: number }>('SELECT count(*)::int AS count FROM devices');
    expect(count).toBe(2);
  });

  describe('the device socket refuses anything but a valid id and secret', () => {
    const attempt = (auth: Record<string, unknown>) =>
      new Promise<string>((resolve) => {
        const socket = io(`${system.dispatcherUrl}/devices`, {
          transports: ['websocket'],
          auth,
          reconnection: false,
        });
        socket.on('connect', () => {
          socket.disconnect();
          resolve('connected');
        });
        socket.on('connect_error', (error) => {
          socket.disconnect();
          resolve(error.message);
        });
      });

    it.each([
      ['a secret that does not match', () => ({ deviceId: bobDevice.deviceId, secret: 'guessed' })],
      ['another device’s secret', () => ({ deviceId: aliceDevice, secret: bobDevice.secret })],
      ['an unknown device', () => ({ deviceId: 424242, secret: bobDevice.secret })],
      ['no credentials', () => ({})],
      ['a non-numeric id', () => ({ deviceId: 'abc', secret: bobDevice.secret })],
    ])('refuses %s', async (_name, auth) => {
      expect(await attempt(auth())).toBe('unauthorized');
    });

    it('refuses an unknown protocol version', async () => {
      expect(await attempt({ ...bobDevice, protocol: 99 })).toBe('unsupported protocol');
    });

    it('accepts the right id and secret', async () => {
      expect(await attempt({ ...bobDevice, protocol: 1 })).toBe('connected');
    });
  });
});
