import { io, Socket } from 'socket.io-client';
import { DEVICE_NAMESPACE, DeviceEvent, IncomingAck } from '@smsfleet/contracts';
import { registerPhone } from '../../tools/simulator/fleet';
import { ENCODINGS, getdata } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** getalldevices and getdevicestatus (profile + live presence), and incoming SMS over the socket. */
describe('devices and incoming SMS', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let phone: { deviceId: number; secret: string };
  let idle: number;
  let socket: Socket;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher']);
    alice = system.createAccount();
    bob = system.createAccount();
    phone = await registerPhone(system.apiUrl, alice.email, alice.password, 'shop phone');
    idle = (await registerPhone(system.apiUrl, alice.email, alice.password, '')).deviceId;
    await registerPhone(system.apiUrl, bob.email, bob.password, 'bob phone');
    socket = io(`${system.dispatcherUrl}${DEVICE_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { deviceId: phone.deviceId, secret: phone.secret, protocol: 1 },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    await socket.timeout(5_000).emitWithAck(DeviceEvent.hello, {
      appversion: '2.3.4',
      siminfo: [
        {
          Slot: 0,
          IccId: '8949226172233934327',
          Number: '+4915752982212',
          Roaming: false,
          CountryIso: 'de',
          CarrierName: 'o2',
        },
        { Slot: 1, CarrierName: 'Telekom', Roaming: true },
      ],
    });
  });

  afterAll(async () => {
    socket?.disconnect();
    await system?.stop();
  });

  const dateObject = {
    date: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/),
    timezone_type: 3,
    timezone: 'UTC',
  };

  describe.each(ENCODINGS)('over %s', (encoding) => {
    it('getalldevices lists the caller’s devices, field by field', async () => {
      const answer = await getdata(system.apiUrl, 'getalldevices', { token: alice.token }, encoding);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ error: 0, message: 'OK', count: 2 });
      const devices = answer.body.device as Record<string, Record<string, unknown>>;
      expect(Object.keys(devices)).toEqual([String(phone.deviceId), String(idle)]);
      expect(devices[phone.deviceId]).toEqual({
        id: phone.deviceId,
        title: 'shop phone',
        number: '+4915752982212',
        imei: null,
        created: dateObject,
        createdhumanformat: expect.stringMatching(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$/),
        lastseen: dateObject,
        lastseenhumanformat: expect.stringMatching(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$/),
        serialnumber: null,
        siminfo: [
          {
            Slot: '0',
            IccId: '8949226172233934327',
            Number: '+4915752982212',
            Roaming: '0',
            CountryIso: 'de',
            CarrierName: 'o2',
          },
          { Slot: '1', IccId: null, Number: null, Roaming: '1', CountryIso: null, CarrierName: 'Telekom' },
        ],
        appversion: '2.3.4',
        isappversionactual: true,
        delaybetweeneachsms: null,
        delaybetweenrequest: 1,
        subscription: true,
        online: true,
        kind: 'socket',
        sendslots: [0, 1, 2, 3, 4, 5],
        delaybetweeneachsms_max: null,
        sendhours: null,
        sendhours_timezone: null,
        sendhours_urgent: false,
        simquotas: null,
        simquotas_used: {},
        pool_id: null,
      });
      expect(devices[idle]).toMatchObject({ title: '', online: false, lastseen: devices[idle].created });
    });

    it('getdevicestatus answers online, lastseen and diffseconds', async () => {
      const online = await getdata(
        system.apiUrl,
        'getdevicestatus',
        { token: alice.token, device_id: phone.deviceId },
        encoding,
      );
      expect(online.body).toEqual({
        error: 0,
        message: 'OK',
        online: true,
        device_id: phone.deviceId,
        lastseen: dateObject,
        diffseconds: expect.any(Number),
        title: 'shop phone',
      });
      expect(online.body.diffseconds as number).toBeLessThan(120);
      const never = await getdata(
        system.apiUrl,
        'getdevicestatus',
        { token: alice.token, deviceid: String(idle) },
        encoding,
      );
      // Never connected: lastseen is the registration time, title a string, never null.
      expect(never.body).toMatchObject({ error: 0, online: false, device_id: idle, title: '' });
      expect(typeof never.body.diffseconds).toBe('number');
    });
  });

  it('getdevicestatus shows a phone offline once it disconnects', async () => {
    const other = await registerPhone(system.apiUrl, alice.email, alice.password, 'brief');
    const brief = io(`${system.dispatcherUrl}${DEVICE_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { deviceId: other.deviceId, secret: other.secret, protocol: 1 },
    });
    await new Promise<void>((resolve) => brief.once('connect', resolve));
    const status = () =>
      getdata(system.apiUrl, 'getdevicestatus', { token: alice.token, device_id: other.deviceId });
    await waitFor('online', async () => (await status()).body.online === true, 10_000);
    brief.disconnect();
    await waitFor('offline', async () => (await status()).body.online === false, 10_000);
  });

  it("answers another account's device as not found and lists none of them", async () => {
    expect(
      (await getdata(system.apiUrl, 'getdevicestatus', { token: bob.token, device_id: phone.deviceId })).body,
    ).toEqual({
      error: 1,
      code: 'not_found',
      message: `device_id ${phone.deviceId} not found among your devices`,
    });
    const bobs = await getdata(system.apiUrl, 'getalldevices', { token: bob.token });
    expect(bobs.body.count).toBe(1);
    expect(Object.keys(bobs.body.device as object)).not.toContain(String(phone.deviceId));
  });

  it.each([
    ['a missing device_id', {}, 'validation'],
    ['a non-numeric device_id', { device_id: 'x' }, 'validation'],
    ['an unknown device_id', { device_id: 999999 }, 'not_found'],
  ])('getdevicestatus rejects %s', async (_name, params, code) => {
    expect(
      (await getdata(system.apiUrl, 'getdevicestatus', { token: alice.token, ...params })).body,
    ).toMatchObject({ error: 1, code });
  });

  describe('incoming SMS', () => {
    const send = (payload: unknown) =>
      socket.timeout(5_000).emitWithAck(DeviceEvent.incoming, payload) as Promise<IncomingAck>;

    it('stores a received SMS with status 5, once however often the phone repeats it, and getallsms lists it', async () => {
      const payload = {
        from: '+49 170 1234567',
        body: 'Yes, please call me',
        sim: 1,
        receivedAt: '2026-11-20T08:00:00.000Z',
      };
      const first = await send(payload);
      expect(first).toEqual({ ok: true, id: expect.any(Number) });
      expect(await send(payload)).toEqual(first);
      const id = (first as { id: number }).id;
      const listed = await getdata(system.apiUrl, 'getallsms', { token: alice.token, status: 5 });
      expect(listed.body.count).toBe(1);
      expect((listed.body.smss as Record<string, unknown>)[id]).toMatchObject({
        id,
        sendto: '+49 170 1234567',
        body: 'Yes, please call me',
        status: 5,
        statustitle: 'Income',
        deviceid: phone.deviceId,
        sim: 1,
        timetosend: { date: '2026-11-20 08:00:00.000000', timezone_type: 3, timezone: 'UTC' },
        senttime: { date: '2026-11-20 08:00:00.000000', timezone_type: 3, timezone: 'UTC' },
      });
      // Searchable by number like any message.
      expect(
        (await getdata(system.apiUrl, 'getallsms', { token: alice.token, phone: '+491701234567' })).body
          .count,
      ).toBe(1);
      // Invisible to other accounts.
      expect((await getdata(system.apiUrl, 'getallsms', { token: bob.token, status: 5 })).body.count).toBe(0);
    });

    it('accepts an alphanumeric sender', async () => {
      expect(
        await send({ from: 'VODAFONE', body: 'Your bill', sim: 0, receivedAt: new Date().toISOString() }),
      ).toEqual({
        ok: true,
        id: expect.any(Number),
      });
    });

    it.each([
      ['no object', 'hello', /payload must be/],
      ['no sender', { body: 'x', sim: 0, receivedAt: '2026-11-20T08:00:00Z' }, /from must be/],
      [
        'a body that is not text',
        { from: '+4917', body: 5, receivedAt: '2026-11-20T08:00:00Z' },
        /body must be text/,
      ],
      [
        'a bad SIM slot',
        { from: '+4917', body: 'x', sim: 9, receivedAt: '2026-11-20T08:00:00Z' },
        /sim must be/,
      ],
      ['a bad time', { from: '+4917', body: 'x', sim: 0, receivedAt: 'yesterday' }, /receivedAt must be/],
    ])('refuses %s with an error ack and stores nothing', async (_name, payload, message) => {
      const before = await system.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages`);
      const ack = await send(payload);
      expect(ack).toEqual({ ok: false, error: expect.stringMatching(message) });
      expect(await system.query(`SELECT count(*)::int AS n FROM messages`)).toEqual(before);
    });
  });
});
