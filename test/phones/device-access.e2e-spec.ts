import { Socket } from 'socket.io-client';
import { registerPhone, registerPhoneWithToken } from '../../tools/simulator/fleet';
import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { SmsGateApp } from '../../tools/simulator/smsgate/smsgate-app';
import { getdata } from '../helpers/api-client';
import { connectDevice, handshake } from '../helpers/device-socket';
import { phoneToken, QUICK_APP } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const DEVICE_CAP = 4;

/**
 * A phone's access can be revoked (security review L5): a new secret, or removal, by the account's token or
 * the operator's CLI; the connected phone is cut off at once, the old secret refused after; an account
 * has at most DEVICES_MAX_PER_ACCOUNT devices. The same holds for phones running the SMSGate app (their
 * secret is their bearer token; their connection an event stream and pulls).
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

  describe('SMSGate app phones', () => {
    const apps: SmsGateApp[] = [];
    let dave: Account;

    beforeAll(() => {
      dave = system.createAccount();
    });

    afterAll(() => {
      for (const app of apps) app.stop();
    });

    async function startApp(account: Account, name: string): Promise<SmsGateApp> {
      const app = new SmsGateApp({
        serverUrl: `${system.dispatcherUrl}/mobile/v1`,
        privateToken: phoneToken(system, account),
        behaviour: QUICK_APP,
        ledger: new PhoneLedger(),
        retryBackoffMs: 200,
        name,
      });
      apps.push(app);
      await app.start();
      await waitFor('event stream open', () => app.streamOpen, 10_000);
      return app;
    }

    const pull = (token: string | undefined) =>
      fetch(`${system.dispatcherUrl}/mobile/v1/message`, { headers: { authorization: `Bearer ${token}` } });

    it('removal closes the event stream at once; the token gets 401 after, its incoming SMS are refused', async () => {
      const app = await startApp(dave, 'Test/removed');
      const token = app.registration?.token;
      const started = Date.now();
      const removed = await call('DELETE', `/v1/devices/${app.deviceId}`, dave.token);
      expect(removed).toEqual({
        status: 200,
        body: { error: 0, message: 'OK', device_id: app.deviceId, messages_finalised: 0 },
      });
      await waitFor('event stream closed', () => !app.streamOpen, 3_000);
      expect(Date.now() - started).toBeLessThan(3_000);
      const refused = await pull(token);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ code: 'unauthorized' });
      // Stopped, the app posts once and does not retry.
      app.stop();
      expect(await app.receiveSms('+4917000000001', 'after removal')).toEqual([false]);
      expect(
        await system.query(`SELECT 1 FROM messages WHERE device_id = $1 AND status = 5`, [app.deviceId]),
      ).toEqual([]);
      const listed = await getdata(system.apiUrl, 'getalldevices', { token: dave.token });
      expect(Object.keys((listed.body.device as Record<string, unknown> | undefined) ?? {})).not.toContain(
        String(app.deviceId),
      );
    });

    it("rotation revokes the app's token; its next registration takes the same device over, with a new token and signing key", async () => {
      const app = await startApp(dave, 'Test/rotated');
      const deviceId = app.deviceId;
      const oldToken = app.registration?.token;
      const [{ webhook_signing_key: oldKey }] = await system.query<{ webhook_signing_key: string }>(
        `SELECT webhook_signing_key FROM devices WHERE id = $1`,
        [deviceId],
      );
      const rotated = await call('POST', `/v1/devices/${deviceId}/secret`, dave.token);
      expect(rotated).toEqual({
        status: 200,
        body: { error: 0, message: 'OK', device_id: deviceId, kind: 'smsgate', awaiting_registration: true },
      });
      await waitFor('event stream closed', () => !app.streamOpen, 3_000);
      expect((await pull(oldToken)).status).toBe(401);
      // Waiting for the phone meanwhile: the app sends it once it is back.
      const sent = await getdata(system.apiUrl, 'addsms', {
        token: dave.token,
        device_id: deviceId,
        sendto: '+4915700000011',
        body: 'after rotation',
      });
      // The app registers again when it starts (its PATCH /device gets 401).
      app.stop();
      await app.start();
      expect(app.seen.unauthorized).toBe(1);
      expect(app.deviceId).toBe(deviceId);
      expect(app.registration?.token).not.toBe(oldToken);
      // (No status app here: the phone's own state shows the message reached it and was delivered.)
      await waitFor(
        'message delivered after the takeover',
        () => app.stateOf(sent.body.sms_id as number) === 'Delivered',
        20_000,
      );
      const [device] = await system.query<{ webhook_signing_key: string; awaiting_registration: boolean }>(
        `SELECT webhook_signing_key, awaiting_registration FROM devices WHERE id = $1`,
        [deviceId],
      );
      expect(device.awaiting_registration).toBe(false);
      expect(device.webhook_signing_key).not.toBe(oldKey);
      expect(await app.receiveSms('+4917000000002', 'signed with the new key')).toEqual([true]);
      // The operator's CLI does the same.
      const cliRotated = JSON.parse(
        system.cli('device:rotate-secret', '--id', String(deviceId)).trim(),
      ) as unknown;
      expect(cliRotated).toEqual({ device_id: deviceId, kind: 'smsgate', awaiting_registration: true });
      await waitFor('event stream closed again', () => !app.streamOpen, 3_000);
      app.stop();
    });

    it(`caps app registrations at ${DEVICE_CAP} devices too, with a clear 403`, async () => {
      const erin = system.createAccount();
      const token = phoneToken(system, erin);
      const register = (name: string) =>
        fetch(`${system.dispatcherUrl}/mobile/v1/device`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name, pushToken: null, simCards: [] }),
        });
      await registerPhoneWithToken(system.apiUrl, erin.token, 'a socket phone');
      const answers = await Promise.all(
        Array.from({ length: DEVICE_CAP + 2 }, (_, i) => register(`Test/capped${i}`)),
      );
      expect(answers.filter((a) => a.status === 201)).toHaveLength(DEVICE_CAP - 1);
      const refused = answers.filter((a) => a.status !== 201);
      expect(refused.map((a) => a.status)).toEqual([403, 403, 403]);
      expect(await refused[0].json()).toEqual({
        code: 'device_limit',
        message: `the account has ${DEVICE_CAP} devices, the most allowed (${DEVICE_CAP}); remove one (DELETE /v1/devices/:id) first`,
      });
    });
  });
});
