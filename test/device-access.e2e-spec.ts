import { Socket } from 'socket.io-client';
import { registerPhone, registerPhoneWithToken } from '../tools/simulator/fleet';
import { getdata } from './helpers/api-client';
import { connectDevice, handshake } from './helpers/device-socket';
import { Account, TestSystem } from './helpers/test-system';

const DEVICE_CAP = 4;

/**
 * A phone's access can be revoked (security review L5): a new secret, or removal, by the account's token or
 * the operator's CLI; the connected phone is cut off at once, the old secret refused after; an account
 * has at most DEVICES_MAX_PER_ACCOUNT devices.
 */
describe('device access: secrets rotated, devices removed, a cap per account', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher'], { DEVICES_MAX_PER_ACCOUNT: String(DEVICE_CAP) });
    alice = system.createAccount();
    bob = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
  });

  async function call(method: 'POST' | 'DELETE', path: string, token: string) {
    const response = await fetch(`${system.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const disconnected = (socket: Socket) =>
    new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

  it('a new secret cuts the connected phone off; the old secret is refused, the new one accepted', async () => {
    const phone = await registerPhone(system.apiUrl, alice.email, alice.password, 'rotated');
    const socket = await connectDevice(system.dispatcherUrl, phone);
    const gone = disconnected(socket);
    const started = Date.now();
    const answer = await call('POST', `/v1/devices/${phone.deviceId}/secret`, alice.token);
    expect(answer).toEqual({
      status: 200,
      body: { error: 0, message: 'OK', device_id: phone.deviceId, device_secret: expect.any(String) },
    });
    expect(await gone).toBe('io server disconnect');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await handshake(system.dispatcherUrl, { ...phone })).toBe('unauthorized');
    const fresh = { deviceId: phone.deviceId, secret: answer.body.device_secret as string };
    expect(await handshake(system.dispatcherUrl, fresh)).toBe('connected');
  });

  it('removal cuts the phone off, ends its waiting messages as 202, empties its queue and hides the device', async () => {
    // Offline: its messages wait in its queue.
    const phone = await registerPhone(system.apiUrl, alice.email, alice.password, 'removed');
    const sent = await getdata(system.apiUrl, 'addsms', {
      token: alice.token,
      device_id: phone.deviceId,
      sendto: '+4915700000001,+4915700000002',
      body: 'never sent',
    });
    const ids = sent.body.sms_ids as number[];
    expect(ids).toHaveLength(2);
    const removed = await call('DELETE', `/v1/devices/${phone.deviceId}`, alice.token);
    expect(removed).toEqual({
      status: 200,
      body: { error: 0, message: 'OK', device_id: phone.deviceId, messages_finalised: 2 },
    });
    for (const id of ids)
      expect(
        (await getdata(system.apiUrl, 'getsmsstatus', { token: alice.token, sms_id: id })).body,
      ).toMatchObject({
        status: 202,
      });
    const jobs = await system.redis().keys(`${system.redisPrefix}:device-${phone.deviceId}:*`);
    expect(jobs).toEqual([]);
    const listed = await getdata(system.apiUrl, 'getalldevices', { token: alice.token });
    expect(Object.keys(listed.body.device as object)).not.toContain(String(phone.deviceId));
    for (const [method, params] of [
      ['addsms', { device_id: phone.deviceId, sendto: '+4915700000003', body: 'x' }],
      ['getdevicestatus', { device_id: phone.deviceId }],
    ] as const)
      expect((await getdata(system.apiUrl, method, { token: alice.token, ...params })).body).toMatchObject({
        error: 1,
        code: 'not_found',
      });
    expect(await handshake(system.dispatcherUrl, { ...phone })).toBe('unauthorized');
    expect((await call('DELETE', `/v1/devices/${phone.deviceId}`, alice.token)).status).toBe(404);
    // A connected phone is cut off by its removal as by a new secret.
    const other = await registerPhone(system.apiUrl, alice.email, alice.password, 'removed while connected');
    const socket = await connectDevice(system.dispatcherUrl, other);
    const gone = disconnected(socket);
    expect((await call('DELETE', `/v1/devices/${other.deviceId}`, alice.token)).status).toBe(200);
    expect(await gone).toBe('io server disconnect');
    // Its messages stay in the history, and the invariants hold with them final.
    const listedMessages = await getdata(system.apiUrl, 'getallsms', {
      token: alice.token,
      device_id: phone.deviceId,
    });
    expect(listedMessages.body.count).toBe(2);
    expect(system.cliResult('check', '--settled').status).toBe(0);
  });

  it("another account's device answers as one that does not exist, and stays as it was", async () => {
    const phone = await registerPhone(system.apiUrl, alice.email, alice.password, 'not bob’s');
    const socket = await connectDevice(system.dispatcherUrl, phone);
    for (const [method, path] of [
      ['POST', `/v1/devices/${phone.deviceId}/secret`],
      ['DELETE', `/v1/devices/${phone.deviceId}`],
      ['DELETE', `/v1/devices/999999`],
      ['DELETE', `/v1/devices/abc`],
    ] as const)
      expect(await call(method, path, bob.token)).toEqual({
        status: 404,
        body: { error: 1, code: 'not_found', message: expect.stringMatching(/not found among your devices/) },
      });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(socket.connected).toBe(true);
    socket.disconnect();
    expect(await handshake(system.dispatcherUrl, { ...phone })).toBe('connected');
  });

  it(`caps an account at ${DEVICE_CAP} devices, concurrent registrations included; a removal frees a place`, async () => {
    const carol = system.createAccount();
    const token = carol.token;
    const answers = await Promise.allSettled(
      Array.from({ length: DEVICE_CAP + 3 }, (_, i) => registerPhoneWithToken(system.apiUrl, token, `c${i}`)),
    );
    const made = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    expect(made).toHaveLength(DEVICE_CAP);
    const refused = await fetch(`${system.apiUrl}/v1/devices/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, title: 'one more' }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      error: 1,
      code: 'validation',
      message: `the account has ${DEVICE_CAP} devices, the most allowed (${DEVICE_CAP}); remove one (DELETE /v1/devices/:id) first`,
    });
    expect((await call('DELETE', `/v1/devices/${made[0].deviceId}`, token)).status).toBe(200);
    expect((await registerPhoneWithToken(system.apiUrl, token, 'after removal')).deviceId).toBeGreaterThan(0);
  });

  it('the operator does the same from the CLI, whatever the account', async () => {
    const phone = await registerPhone(system.apiUrl, bob.email, bob.password, 'cli');
    const socket = await connectDevice(system.dispatcherUrl, phone);
    const gone = disconnected(socket);
    const rotated = JSON.parse(system.cli('device:rotate-secret', '--id', String(phone.deviceId)).trim()) as {
      device_secret: string;
    };
    expect(await gone).toBe('io server disconnect');
    const fresh = { deviceId: phone.deviceId, secret: rotated.device_secret };
    expect(await handshake(system.dispatcherUrl, fresh)).toBe('connected');
    expect(JSON.parse(system.cli('device:remove', '--id', String(phone.deviceId)).trim())).toEqual({
      device_id: phone.deviceId,
      removed: true,
      messages_finalised: 0,
    });
    expect(await handshake(system.dispatcherUrl, fresh)).toBe('unauthorized');
    const listed = system
      .cli('device:list', '--email', bob.email)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; removed_at: string | null });
    expect(listed.find((d) => d.id === phone.deviceId)?.removed_at).toEqual(expect.any(String));
    expect(system.cliResult('device:remove', '--id', String(phone.deviceId)).status).toBe(1);
  });
});
