import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { DeviceEvent, HelloAck, IncomingAck, StatusAck } from '@smsfleet/contracts';
import { registerPhone } from '../../tools/simulator/fleet';
import { PhoneCredentials } from '../../tools/simulator/simulated-phone';
import { Encoding, getdata, postJson } from '../helpers/api-client';
import { connectDevice, handshake } from '../helpers/device-socket';
import { IMAGES, postWithFile } from '../helpers/images';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** What one tenant owns, as the walk puts it into requests: A's own (controls), B's, or ids that never existed. */
interface Ids {
  email: string;
  device: number;
  /** A device whose secret the walk does not hold (handshakes). */
  device2: number;
  /** A device whose access the walk may revoke (a new secret, then removal): B's must survive both. */
  revocable: number;
  sms: number;
  incoming: number;
  tag: number;
  contact: number;
  contactPhone: string;
  paket: number;
  /** A recipient of one of its messages, and that message's customerid. */
  phone: string;
  customerId: number;
  /** The Idempotency-Keys it used on addsms and on savepaket. */
  keys: { addsms: string; savepaket: string };
}

type Answer = { status: number; body: Record<string, unknown> };

/**
 * What A gets with another tenant's id: an error code (the same answer as for an id that never existed, while
 * A's own id succeeds), `none` (a filter that matches nothing, as for an unknown id, while A's own matches),
 * or `ignored` (the endpoint does not take that field: it acts on A's own data only).
 */
type Expect = 'not_found' | 'invalid_credentials' | 'none' | 'ignored';

interface HttpStep {
  name: string;
  expect: Expect;
  call: (ids: Ids) => Promise<Answer>;
}

/** Socket steps run on A's connected phone ("walker"); handshakes open their own connection. */
interface SocketStep {
  name: string;
  /** `ok`: acknowledged, ignored for a foreign id (docs/device-protocol.md); `no answer`: no such event. */
  expect: 'unauthorized' | 'ok' | 'no answer';
  run: (ids: Ids, walker: Socket) => Promise<unknown>;
}

const GHOST: Ids = {
  email: 'nobody@example.com',
  device: 2_000_000_001,
  device2: 2_000_000_002,
  revocable: 2_000_000_006,
  sms: 9_000_000_001,
  incoming: 9_000_000_002,
  tag: 2_000_000_003,
  contact: 2_000_000_004,
  contactPhone: '+4917299999998',
  paket: 2_000_000_005,
  phone: '+4917299999999',
  customerId: 999_999,
  keys: { addsms: 'ghost-key-1', savepaket: 'ghost-key-2' },
};
/** Everything of B's carries one of these; no answer to A may contain one. */
const B_MARKERS = ['bravo', '491700000'];
const SEND = { sendto: '+4917199990000', body: 'walk' };
const PHONE_STATUSES = [6, 7, 8, 9, 10, 11, 12, 100, 101];

let system: TestSystem;
let a: Account;
let b: Account;
let walker: PhoneCredentials;
let spare: PhoneCredentials;
let own: Ids;
let bravo: Ids;

const withToken = (params: Record<string, string | number>) => ({ token: a.token, ...params });
const call = (method: string, params: Record<string, string | number>, encoding: Encoding = 'get') =>
  getdata(system.apiUrl, method, params, encoding);

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Answer> {
  const response = await fetch(`${system.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A's dashboard session: its cookie and CSRF token (signed in before the walk). */
let session: { cookie: string; csrf: string };

/** A request of A's dashboard session (cookie + CSRF header), as the browser sends it. */
async function viaSession(path: string, method = 'GET', body?: unknown): Promise<Answer> {
  const response = await fetch(`${system.apiUrl}${path}`, {
    method,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrf,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function viaBearer(path: string): Promise<Answer> {
  const response = await fetch(`${system.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${a.token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const bulk = (ids: Ids) => [
  { ...SEND, device_id: own.device },
  { ...SEND, device_id: ids.device },
];
const paket = (device: number, tags: string | number, extra: Record<string, string | number> = {}) =>
  withToken({ title: 'walk', body: 'walk', device_id: device, tags, ...extra });

/** Every HTTP endpoint (docs/api.md, docs/device-protocol.md §1) that takes an id, or could be handed one. */
const HTTP_WALK: HttpStep[] = [
  {
    name: 'addsms device_id (GET)',
    expect: 'not_found',
    call: (ids) => call('addsms', withToken({ ...SEND, device_id: ids.device })),
  },
  {
    name: 'addsms deviceid (form)',
    expect: 'not_found',
    call: (ids) => call('addsms', withToken({ ...SEND, deviceid: ids.device }), 'form'),
  },
  {
    name: 'addsms with email + pass (json)',
    expect: 'not_found',
    call: (ids) =>
      call('addsms', { email: a.email, pass: a.password, ...SEND, device_id: ids.device }, 'json'),
  },
  {
    name: 'smstosend (multipart)',
    expect: 'not_found',
    call: (ids) =>
      call('smstosend', { email: a.email, pass: a.password, ...SEND, device_id: ids.device }, 'multipart'),
  },
  {
    name: 'addsms with an image file',
    expect: 'not_found',
    call: async (ids) => {
      const { httpStatus, ...body } = await postWithFile(
        `${system.apiUrl}/getdata/addsms`,
        withToken({ sendto: SEND.sendto, device_id: ids.device, sim: 2 }),
        { data: IMAGES.png, name: 'walk.png', type: 'image/png' },
      );
      return { status: httpStatus as number, body };
    },
  },
  {
    name: 'addalotofsms datajson, one item on the device',
    expect: 'not_found',
    call: (ids) =>
      call('addalotofsms', { datajson: JSON.stringify({ token: a.token, smsdata: bulk(ids) }) }, 'form'),
  },
  {
    name: 'addalotofsms raw JSON, one item on the device',
    expect: 'not_found',
    call: (ids) => postJson(system.apiUrl, 'addalotofsms', { token: a.token, smsdata: bulk(ids) }),
  },
  {
    name: 'getsmsstatus sms_id',
    expect: 'not_found',
    call: (ids) => call('getsmsstatus', withToken({ sms_id: ids.sms })),
  },
  {
    name: 'getsmsstatus id of an incoming SMS (form)',
    expect: 'not_found',
    call: (ids) => call('getsmsstatus', withToken({ id: ids.incoming }), 'form'),
  },
  {
    name: 'getsmsstatus with Authorization: Bearer',
    expect: 'not_found',
    call: (ids) => post('/getdata/getsmsstatus', { sms_id: ids.sms }, { authorization: `Bearer ${a.token}` }),
  },
  {
    name: 'getallsms device_id',
    expect: 'none',
    call: (ids) => call('getallsms', withToken({ device_id: ids.device })),
  },
  {
    name: 'getallsms onlycount device_id',
    expect: 'none',
    call: (ids) => call('getallsms', withToken({ device_id: ids.device, onlycount: 1 })),
  },
  {
    name: 'getallsms phone',
    expect: 'none',
    call: (ids) => call('getallsms', withToken({ phone: ids.phone })),
  },
  {
    name: 'getallsms customerid',
    expect: 'none',
    call: (ids) => call('getallsms', withToken({ customerid: ids.customerId }), 'json'),
  },
  {
    name: 'getdevicestatus device_id',
    expect: 'not_found',
    call: (ids) => call('getdevicestatus', withToken({ device_id: ids.device })),
  },
  {
    name: 'getdevicestatus deviceId (json)',
    expect: 'not_found',
    call: (ids) => call('getdevicestatus', withToken({ deviceId: ids.device2 }), 'json'),
  },
  {
    name: 'getalldevices with a device_id',
    expect: 'ignored',
    call: (ids) => call('getalldevices', withToken({ device_id: ids.device })),
  },
  {
    name: 'savetag with a tag_id',
    expect: 'ignored',
    call: (ids) => call('savetag', withToken({ title: 'walk', tag_id: ids.tag, id: ids.tag })),
  },
  {
    name: 'savecontact ctag_id',
    expect: 'not_found',
    call: (ids) =>
      call('savecontact', withToken({ phone: '+4917199990001', ctag_id: ids.tag, name: 'walk' })),
  },
  {
    name: 'savecontact tag_id (multipart)',
    expect: 'not_found',
    call: (ids) => call('savecontact', withToken({ phone: '+4917199990001', tag_id: ids.tag }), 'multipart'),
  },
  {
    name: 'savecontact with the number and contact_id of a contact',
    expect: 'ignored',
    call: (ids) =>
      call('savecontact', withToken({ phone: ids.contactPhone, ctag_id: own.tag, contact_id: ids.contact })),
  },
  {
    name: 'savepaket device_id',
    expect: 'not_found',
    call: (ids) => call('savepaket', paket(ids.device, own.tag)),
  },
  {
    name: 'savepaket tags',
    expect: 'not_found',
    call: (ids) => call('savepaket', paket(own.device, ids.tag), 'form'),
  },
  {
    name: 'createpaket tags, one of them the other’s',
    expect: 'not_found',
    call: (ids) => call('createpaket', paket(own.device, `${own.tag},${ids.tag}`), 'json'),
  },
  {
    name: 'savepaket with a paket_id',
    expect: 'ignored',
    call: (ids) => call('savepaket', paket(own.device, own.tag, { paket_id: ids.paket, paket: ids.paket })),
  },
  {
    name: 'POST /v1/devices/:id/settings (token)',
    expect: 'not_found',
    call: (ids) => post(`/v1/devices/${ids.device}/settings`, withToken({ window: 1 })),
  },
  {
    name: 'POST /v1/devices/:id/settings (Bearer)',
    expect: 'not_found',
    call: (ids) =>
      post(
        `/v1/devices/${ids.device2}/settings`,
        { delaybetweeneachsms: 60 },
        { authorization: `Bearer ${a.token}` },
      ),
  },
  {
    name: 'POST /v1/devices/:id/secret (a new device secret)',
    expect: 'not_found',
    call: (ids) => post(`/v1/devices/${ids.revocable}/secret`, withToken({})),
  },
  {
    name: 'DELETE /v1/devices/:id (removal; Bearer)',
    expect: 'not_found',
    call: (ids) => post(`/v1/devices/${ids.revocable}`, {}, { authorization: `Bearer ${a.token}` }, 'DELETE'),
  },
  {
    name: 'POST /v1/devices/register with a device_id',
    expect: 'ignored',
    call: (ids) => post('/v1/devices/register', withToken({ title: 'walk', device_id: ids.device })),
  },
  {
    name: 'addsms with the Idempotency-Key the other used',
    expect: 'ignored',
    call: (ids) =>
      post('/getdata/addsms', withToken({ ...SEND, device_id: own.device }), {
        'idempotency-key': ids.keys.addsms,
      }),
  },
  {
    name: 'savepaket with the Idempotency-Key the other used',
    expect: 'ignored',
    call: (ids) =>
      post('/getdata/savepaket', paket(own.device, own.tag), { 'idempotency-key': ids.keys.savepaket }),
  },
  {
    name: 'GET /v1/messages/:id (Bearer)',
    expect: 'not_found',
    call: (ids) => viaBearer(`/v1/messages/${ids.sms}`),
  },
  {
    name: 'GET /v1/messages/:id of an incoming SMS (session)',
    expect: 'not_found',
    call: (ids) => viaSession(`/v1/messages/${ids.incoming}`),
  },
  {
    name: 'GET /v1/messages device_id (session)',
    expect: 'none',
    call: (ids) => viaSession(`/v1/messages?device_id=${ids.device}`),
  },
  {
    name: 'GET /v1/messages phone and customerid (Bearer)',
    expect: 'none',
    call: (ids) =>
      viaBearer(`/v1/messages?phone=${encodeURIComponent(ids.phone)}&customerid=${ids.customerId}`),
  },
  {
    name: 'GET /v1/devices/:id (Bearer)',
    expect: 'not_found',
    call: (ids) => viaBearer(`/v1/devices/${ids.device}`),
  },
  {
    name: 'GET /v1/devices/:id (session)',
    expect: 'not_found',
    call: (ids) => viaSession(`/v1/devices/${ids.device2}`),
  },
  {
    name: 'POST /v1/devices/:id/settings (session)',
    expect: 'not_found',
    call: (ids) => viaSession(`/v1/devices/${ids.device}/settings`, 'POST', { window: 2 }),
  },
  {
    name: 'GET /v1/contacts tag_id (session)',
    expect: 'none',
    call: (ids) => viaSession(`/v1/contacts?tag_id=${ids.tag}`),
  },
  {
    name: 'GET /v1/devices with a device_id (session)',
    expect: 'ignored',
    call: (ids) => viaSession(`/v1/devices?device_id=${ids.device}`),
  },
  {
    name: 'GET /v1/newsletters with a paket_id (Bearer)',
    expect: 'ignored',
    call: (ids) => viaBearer(`/v1/newsletters?paket_id=${ids.paket}&id=${ids.paket}`),
  },
  {
    name: 'GET /v1/tags with a tag_id (session)',
    expect: 'ignored',
    call: (ids) => viaSession(`/v1/tags?tag_id=${ids.tag}`),
  },
  {
    name: 'POST /v1/session with the other’s email',
    expect: 'invalid_credentials',
    call: (ids) => post('/v1/session', { email: ids.email, password: a.password }),
  },
  {
    name: 'gettoken with the other’s email',
    expect: 'invalid_credentials',
    call: (ids) => call('gettoken', { email: ids.email, pass: a.password }),
  },
  {
    name: 'addsms with the other’s email',
    expect: 'invalid_credentials',
    call: (ids) => call('addsms', { email: ids.email, pass: a.password, ...SEND, device_id: ids.device }),
  },
];

const report = (id: number, status: number) => ({ id, status, at: new Date().toISOString() });
const emit = <T>(socket: Socket, event: string, payload: unknown, timeoutMs = 5_000) =>
  socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;

/** Every phone → server event of docs/device-protocol.md, and the handshake. */
const SOCKET_WALK: SocketStep[] = [
  {
    name: 'handshake with the device id and this account’s device secret',
    expect: 'unauthorized',
    run: (ids) => handshake(system.dispatcherUrl, { deviceId: ids.device2, secret: spare.secret }),
  },
  {
    name: 'handshake with the device id as a string',
    expect: 'unauthorized',
    run: (ids) => handshake(system.dispatcherUrl, { deviceId: String(ids.device2), secret: spare.secret }),
  },
  ...PHONE_STATUSES.map((status): SocketStep => ({
    name: `status ${status} for a message`,
    expect: 'ok',
    run: (ids, socket) => emit<StatusAck>(socket, DeviceEvent.status, report(ids.sms, status)),
  })),
  {
    name: 'status reports for a message and an incoming SMS, as an array',
    expect: 'ok',
    run: (ids, socket) =>
      emit<StatusAck>(socket, DeviceEvent.status, [report(ids.sms, 7), report(ids.incoming, 9)]),
  },
  {
    name: 'incoming naming the device, user and message',
    expect: 'ok',
    run: async (ids, socket) => {
      const ack = await emit<IncomingAck>(socket, DeviceEvent.incoming, {
        from: '+4917199990003',
        body: `walk incoming ${ids.device}`,
        sim: 0,
        receivedAt: new Date().toISOString(),
        deviceId: ids.device,
        device_id: ids.device,
        id: ids.incoming,
      });
      // Stored as the walker's, whatever the payload names.
      const [row] = await system.query<{ device_id: number }>(
        `SELECT device_id FROM messages WHERE id = $1`,
        [ack.ok ? ack.id : 0],
      );
      return { ...ack, storedOn: row?.device_id === walker.deviceId ? 'walker' : row?.device_id };
    },
  },
  {
    name: 'hello naming the device',
    expect: 'ok',
    run: (ids, socket) =>
      emit<HelloAck>(socket, DeviceEvent.hello, {
        appversion: 'walk',
        siminfo: [{ Slot: 0, CarrierName: 'walk' }],
        deviceId: ids.device,
        device_id: ids.device,
      }),
  },
  {
    name: 'sms (a server → phone event) sent by the phone',
    expect: 'no answer',
    run: (ids, socket) => emit(socket, DeviceEvent.sms, { ...SEND, id: ids.sms }, 1_000),
  },
  {
    name: 'settings (a server → phone event) sent by the phone',
    expect: 'no answer',
    run: (ids, socket) =>
      emit(socket, DeviceEvent.settings, { deviceId: ids.device, window: 1, delaybetweeneachsms: 60 }, 1_000),
  },
];

/** B's rows, table by table, as JSON text (compared byte for byte). */
const B_ROWS: Record<string, string> = {
  users: `SELECT * FROM users WHERE id = $1`,
  api_tokens: `SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY id`,
  devices: `SELECT * FROM devices WHERE user_id = $1 ORDER BY id`,
  messages: `SELECT * FROM messages WHERE user_id = $1 ORDER BY id`,
  message_events: `SELECT e.* FROM message_events e JOIN messages m ON m.id = e.message_id
                     WHERE m.user_id = $1 ORDER BY e.message_id, e.status`,
  tags: `SELECT * FROM tags WHERE user_id = $1 ORDER BY id`,
  contacts: `SELECT * FROM contacts WHERE user_id = $1 ORDER BY id`,
  contact_tags: `SELECT ct.* FROM contact_tags ct JOIN contacts c ON c.id = ct.contact_id
                  WHERE c.user_id = $1 ORDER BY ct.contact_id, ct.tag_id`,
  newsletters: `SELECT * FROM newsletters WHERE user_id = $1 ORDER BY id`,
  idempotency_keys: `SELECT * FROM idempotency_keys WHERE user_id = $1 ORDER BY key`,
};

/**
 * Tenant isolation (docs/reliability.md, OWASP API1 BOLA): account A walks every HTTP endpoint and every
 * phone event with account B's ids. Each answer is "not found" or the documented refusal — the same as for
 * ids that never existed, while A's own ids work — no answer carries B's data, and B's rows and queues are
 * byte-identical afterwards. A new endpoint or event is one more line in HTTP_WALK or SOCKET_WALK.
 */
describe('tenant isolation: A walks every endpoint and phone event with B’s ids', () => {
  let walkerSocket: Socket;
  const walkerReceived: number[] = [];
  let bUserId: number;
  let bDevices: number[];
  let before: Record<string, string>;

  beforeAll(async () => {
    system = await TestSystem.start(undefined, (s) => ({ UPLOAD_DIR: join(s.logDir, 'uploads') }));
    a = system.createAccount(undefined, 'alpha password, not B’s');
    b = system.createAccount();
    bravo = await createBravo();
    own = await createOwn();
    const signIn = await fetch(`${system.apiUrl}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: a.email, password: a.password }),
    });
    session = {
      cookie: (signIn.headers.get('set-cookie') ?? '').split(';')[0],
      csrf: ((await signIn.json()) as { csrf_token: string }).csrf_token,
    };
    bUserId = (await system.query<{ id: number }>(`SELECT id FROM users WHERE email = $1`, [b.email]))[0].id;
    bDevices = [bravo.device, bravo.device2];
    await waitFor('B quiet: no volatile key left', async () => (await volatileKeys()).length === 0, 20_000);
    before = await snapshot();
  }, 120_000);

  afterAll(async () => {
    walkerSocket?.disconnect();
    await system?.stop();
  });

  /** B: a phone that delivered (then went away), one never online, messages, incoming SMS, tags, contacts, newsletters. */
  async function createBravo(): Promise<Ids> {
    const b1 = await registerPhone(system.apiUrl, b.email, b.password, 'bravo phone');
    const b2 = await registerPhone(system.apiUrl, b.email, b.password, 'bravo offline');
    const token = { token: b.token };
    const phone = await connectDevice(system.dispatcherUrl, b1, (sms) => {
      phone.emit(DeviceEvent.status, [report(sms.id, 6), report(sms.id, 7)]);
    });
    const sent = await post(
      '/getdata/addsms',
      { ...token, device_id: b1.deviceId, sendto: '+4917000000001', body: 'bravo sent', customerid: 777 },
      { 'idempotency-key': 'tenant-key-1' },
    );
    const incoming = await emit<IncomingAck>(phone, DeviceEvent.incoming, {
      from: '+4917000000003',
      body: 'bravo incoming',
      sim: 0,
      receivedAt: new Date().toISOString(),
    });
    await waitFor('B’s message delivered', async () => {
      const [row] = await system.query<{ status: number }>(`SELECT status FROM messages WHERE id = $1`, [
        sent.body.sms_id,
      ]);
      return row.status === 7;
    });
    phone.disconnect();
    const tag = (await call('savetag', { ...token, title: 'bravo tag' })).body.tag_id as number;
    const contact = (
      await call('savecontact', { ...token, phone: '+4917000000002', ctag_id: tag, name: 'bravo contact' })
    ).body.contact_id as number;
    // Waiting in the offline phone's queue: a message, a newsletter's message; and one for much later.
    await call('addsms', {
      ...token,
      device_id: b2.deviceId,
      sendto: '+4917000000004',
      body: 'bravo queued',
    });
    await call('addsms', {
      ...token,
      device_id: b2.deviceId,
      sendto: '+4917000000005',
      body: 'bravo later',
      timetosend: '2099-01-01 10:00',
    });
    const news = { ...token, title: 'bravo news', body: 'bravo news', device_id: b2.deviceId, tags: tag };
    const paketId = (await post('/getdata/savepaket', news, { 'idempotency-key': 'tenant-key-2' })).body
      .paket_id as number;
    await call('savepaket', {
      ...token,
      title: 'bravo later news',
      body: 'bravo later news',
      device_id: b2.deviceId,
      tags: tag,
      time_to_send: '01.01.2099 10:00:00',
    });
    await waitFor('B’s newsletter expanded and queued', async () => {
      const rows = await system.query(
        `SELECT 1 FROM messages WHERE newsletter_id = $1 AND enqueued_at IS NOT NULL`,
        [paketId],
      );
      return rows.length === 1;
    });
    expect([sent.body.error, incoming.ok, tag > 0, contact > 0]).toEqual([0, true, true, true]);
    return {
      email: b.email,
      device: b1.deviceId,
      device2: b2.deviceId,
      revocable: b2.deviceId,
      sms: sent.body.sms_id as number,
      incoming: (incoming as { id: number }).id,
      tag,
      contact,
      contactPhone: '+4917000000002',
      paket: paketId,
      phone: '+4917000000001',
      customerId: 777,
      keys: { addsms: 'tenant-key-1', savepaket: 'tenant-key-2' },
    };
  }

  /** A: the walker phone (connected throughout), a spare phone, and data of its own for the controls. */
  async function createOwn(): Promise<Ids> {
    walker = await registerPhone(system.apiUrl, a.email, a.password, 'alpha walker');
    spare = await registerPhone(system.apiUrl, a.email, a.password, 'alpha spare');
    const revocable = await registerPhone(system.apiUrl, a.email, a.password, 'alpha revocable');
    walkerSocket = await connectDevice(system.dispatcherUrl, walker, (sms) => walkerReceived.push(sms.id));
    const sent = await call('addsms', withToken({ ...SEND, device_id: walker.deviceId, customerid: 888 }));
    const incoming = await emit<IncomingAck>(walkerSocket, DeviceEvent.incoming, {
      from: '+4917100000003',
      body: 'alpha incoming',
      sim: 0,
      receivedAt: new Date().toISOString(),
    });
    const tag = (await call('savetag', withToken({ title: 'alpha tag' }))).body.tag_id as number;
    const contact = (await call('savecontact', withToken({ phone: '+4917100000002', ctag_id: tag }))).body
      .contact_id as number;
    const paketId = (
      await call(
        'savepaket',
        withToken({ title: 'alpha', body: 'alpha', device_id: spare.deviceId, tags: tag }),
      )
    ).body.paket_id as number;
    return {
      email: a.email,
      device: walker.deviceId,
      device2: spare.deviceId,
      revocable: revocable.deviceId,
      sms: sent.body.sms_id as number,
      incoming: (incoming as { id: number }).id,
      tag,
      contact,
      contactPhone: '+4917100000002',
      paket: paketId,
      phone: SEND.sendto,
      customerId: 888,
      keys: { addsms: 'alpha-key-1', savepaket: 'alpha-key-2' },
    };
  }

  /** B's Redis keys: its device queues, leases and presence. */
  async function bKeys(): Promise<string[]> {
    const redis = system.redis();
    const pattern = new RegExp(
      `^${system.redisPrefix}:(device-|lease:|presence:)(${bDevices.join('|')})(:|$)`,
    );
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${system.redisPrefix}:*`, 'COUNT', 1000);
      keys.push(...found.filter((key) => pattern.test(key)));
      cursor = next;
    } while (cursor !== '0');
    return keys.sort();
  }

  /** Keys that expire by themselves (a lease, presence): the snapshot waits until B has none. */
  async function volatileKeys(): Promise<string[]> {
    const keys = await bKeys();
    const ttls = await Promise.all(keys.map((key) => system.redis().pttl(key)));
    return keys.filter((_, i) => ttls[i] >= 0);
  }

  async function snapshot(): Promise<Record<string, string>> {
    const rows: Record<string, string> = {};
    for (const [table, sql] of Object.entries(B_ROWS)) {
      const [{ json }] = await system.query<{ json: string }>(
        `SELECT COALESCE(json_agg(t)::text, '[]') AS json FROM (${sql}) t`,
        [bUserId],
      );
      rows[table] = json;
    }
    for (const key of await bKeys())
      rows[`redis ${key}`] = ((await system.redis().dumpBuffer(key)) ?? Buffer.alloc(0)).toString('base64');
    return rows;
  }

  function expectNoLeak(answer: unknown): void {
    const text = JSON.stringify(answer);
    for (const marker of B_MARKERS) expect(text).not.toContain(marker);
  }

  /** Ids in an answer (e.g. a replayed Idempotency-Key's) must be A's: never B's rows handed to A. */
  async function expectOwnedByA(answer: Answer): Promise<void> {
    const tables: Record<string, string> = {
      sms_id: 'messages',
      tag_id: 'tags',
      contact_id: 'contacts',
      paket_id: 'newsletters',
      device_id: 'devices',
    };
    const found = Object.entries(tables).flatMap(([field, table]) =>
      typeof answer.body[field] === 'number' ? [[table, answer.body[field]] as const] : [],
    );
    for (const id of Object.keys((answer.body.device as object | undefined) ?? {}))
      found.push(['devices', Number(id)]);
    // The /v1 listings: arrays of rows, each with its id.
    const lists: Record<string, string> = {
      devices: 'devices',
      messages: 'messages',
      contacts: 'contacts',
      tags: 'tags',
      newsletters: 'newsletters',
    };
    for (const [field, table] of Object.entries(lists))
      for (const row of (answer.body[field] as Array<{ id: number }> | undefined) ?? [])
        found.push([table, row.id]);
    // The overview names no rows of its own but the message waiting longest.
    const oldest = answer.body.oldest_waiting as { id: number; device_id: number } | null | undefined;
    if (oldest) found.push(['messages', oldest.id], ['devices', oldest.device_id]);
    expect(found.length).toBeGreaterThan(0);
    for (const [table, id] of found) {
      const [row] = await system.query<{ user_id: number }>(`SELECT user_id FROM ${table} WHERE id = $1`, [
        id,
      ]);
      expect([table, id, row?.user_id === bUserId ? 'B' : 'A']).toEqual([table, id, 'A']);
    }
  }

  /** getallsms answers a count; the /v1 listings, arrays of rows. */
  const listed = (body: Record<string, unknown>) =>
    typeof body.count === 'number'
      ? body.count
      : ((body.messages ?? body.contacts) as unknown[] | undefined)?.length;

  const outcome = (answer: Answer) => ({
    status: answer.status,
    error: answer.body.error,
    code: answer.body.code,
    count: listed(answer.body),
  });

  it.each(HTTP_WALK.map((step) => [step.name, step] as const))('HTTP %s', async (_name, step) => {
    const foreign = await step.call(bravo);
    expectNoLeak(foreign);
    if (step.expect === 'ignored') {
      expect(foreign.body).toMatchObject({ error: 0 });
      await expectOwnedByA(foreign);
      return;
    }
    const ghost = await step.call(GHOST);
    const control = await step.call(own);
    expect(control.body).toMatchObject({ error: 0 });
    if (step.expect === 'none') {
      expect(listed(control.body)).toBeGreaterThan(0);
      expect(foreign.body).toMatchObject({ error: 0 });
      expect(listed(foreign.body)).toBe(0);
      expect(Object.keys((foreign.body.smss as object | undefined) ?? {})).toEqual([]);
    } else {
      expect(foreign.body).toMatchObject({ error: 1, code: step.expect });
    }
    expect(outcome(foreign)).toEqual(outcome(ghost));
  });

  it.each(SOCKET_WALK.map((step) => [step.name, step] as const))('socket %s', async (_name, step) => {
    if (step.expect === 'no answer') {
      await expect(step.run(bravo, walkerSocket)).rejects.toThrow(/timed out/);
      return;
    }
    const foreign = await step.run(bravo, walkerSocket);
    expectNoLeak(foreign);
    const ghost = await step.run(GHOST, walkerSocket);
    const control = await step.run(own, walkerSocket);
    if (step.expect === 'unauthorized') {
      expect([foreign, ghost, control]).toEqual(['unauthorized', 'unauthorized', 'connected']);
    } else {
      expect(foreign).toMatchObject({ ok: true });
      expect(ghost).toMatchObject({ ok: true });
      expect(control).toMatchObject({ ok: true });
      if (step.name.startsWith('incoming')) expect(foreign).toMatchObject({ storedOn: 'walker' });
    }
    expect(walkerSocket.connected).toBe(true);
  });

  it('the overview (session) counts A’s messages and phones only, whatever device_id it is handed', async () => {
    const overview = (await viaSession(`/v1/overview?range=7d&device_id=${bravo.device}`)).body as {
      hours: Array<Record<string, number>>;
      devices_total: number;
    };
    expectNoLeak(overview);
    const charted = overview.hours.reduce(
      (sum, hour) => sum + hour.delivered + hour.failed + hour.waiting + hour.in_progress,
      0,
    );
    const [counts] = await system.query<{ messages: number; devices: number }>(
      `SELECT (SELECT count(*)::int FROM messages WHERE user_id = u.id AND status <> 5) AS messages,
              (SELECT count(*)::int FROM devices WHERE user_id = u.id AND removed_at IS NULL) AS devices
         FROM users u WHERE u.email = $1`,
      [a.email],
    );
    expect({ charted, devices: overview.devices_total }).toEqual({
      charted: counts.messages,
      devices: counts.devices,
    });
  });

  it('PostgreSQL itself refuses A’s message or newsletter on B’s device (a composite foreign key)', async () => {
    const [{ id: aUserId }] = await system.query<{ id: number }>(`SELECT id FROM users WHERE email = $1`, [
      a.email,
    ]);
    await expect(
      system.query(
        `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until)
         VALUES ($1, $2, '+4917199990009', '+4917199990009', 'cross', 0, now(), now())`,
        [aUserId, bravo.device],
      ),
    ).rejects.toThrow(/messages_device_of_account/);
    await expect(
      system.query(
        `INSERT INTO newsletters (user_id, device_id, title, body, sim, tag_ids, time_to_send)
         VALUES ($1, $2, 'cross', 'cross', 0, '{}', now())`,
        [aUserId, bravo.device],
      ),
    ).rejects.toThrow(/newsletters_device_of_account/);
  });

  it('afterwards B’s rows and queues are byte-identical, and A’s phone only ever got A’s messages', async () => {
    // Every report the walk sent is applied (or ignored) once the status inbox is empty.
    await waitFor(
      'status inbox drained',
      async () =>
        (await system.query<{ n: number }>('SELECT count(*)::int AS n FROM status_inbox'))[0].n === 0,
    );
    // The controls did act on A: its own message took the walker's reports.
    const [ownSms] = await system.query<{ status: number }>(`SELECT status FROM messages WHERE id = $1`, [
      own.sms,
    ]);
    expect(ownSms.status).not.toBe(1);
    await waitFor('B quiet again', async () => (await volatileKeys()).length === 0, 20_000);
    const after = await snapshot();
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const key of Object.keys(before)) expect([key, after[key]]).toEqual([key, before[key]]);
    const foreignReceived = await system.query<{ id: string }>(
      `SELECT id FROM messages WHERE id = ANY($1::bigint[]) AND user_id <> (SELECT id FROM users WHERE email = $2)`,
      [walkerReceived, a.email],
    );
    expect(foreignReceived).toEqual([]);
    expect(walkerReceived.length).toBeGreaterThan(0);
  });
});
