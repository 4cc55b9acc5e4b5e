import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata, Json, v1Call } from '../helpers/api-client';
import { fleetFor } from '../helpers/pools';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/**
 * Phone pools (`/v1/pools`, ADR 2221) against the real API, dispatcher, PostgreSQL and Redis: CRUD with
 * members and their live online state, one pool per device, tenant isolation, bad input in the API's format,
 * the OpenAPI entries. Sending to a pool: test/api/pool-intake.
 */
describe('pools: CRUD, members, isolation, bad input', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let fleet: SimulatedFleet;
  /** Alice's phones: the first is connected (online), the others never connect. */
  let phones: number[];
  let bobPhone: number;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher']);
    alice = system.createAccount();
    bob = system.createAccount();
    fleet = fleetFor(system, alice);
    phones = (await fleet.provision(4)).map((phone) => phone.deviceId);
    // Only the first connects: the pool's answer must tell online from offline members.
    await fleet.phones[0].connect();
    [{ deviceId: bobPhone }] = await fleetFor(system, bob).provision(1);
  }, 90_000);

  afterAll(async () => {
    fleet?.stop();
    await system?.stop();
  });

  const call = (account: Account, method: string, path: string, body?: unknown) =>
    v1Call(system.apiUrl, account, method, path, body);
  const create = async (account: Account, body: unknown) => {
    const answer = await call(account, 'POST', '/v1/pools', body);
    expect(answer).toMatchObject({ status: 200, body: { error: 0 } });
    return answer.body.pool as Json;
  };

  it('creates, lists, reads, renames, adds and removes devices, deletes; members show their online state', async () => {
    const pool = await create(alice, { name: '  Shop phones ', device_ids: [phones[1], phones[0]] });
    expect(pool).toEqual({
      id: expect.any(Number),
      name: 'Shop phones',
      members: [
        { device_id: phones[0], title: 'simulated phone 1', online: expect.any(Boolean) },
        { device_id: phones[1], title: 'simulated phone 2', online: false },
      ],
      online: expect.any(Number),
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    // Presence is written when the phone's session starts: wait for it rather than assume it.
    await waitFor(
      'the connected phone online in its pool',
      async () => (await call(alice, 'GET', `/v1/pools/${pool.id}`)).body.pool.online === 1,
      10_000,
    );
    const read = (await call(alice, 'GET', `/v1/pools/${pool.id}`)).body.pool;
    expect(read.members.map((member: Json) => [member.device_id, member.online])).toEqual([
      [phones[0], true],
      [phones[1], false],
    ]);

    const renamed = await call(alice, 'PATCH', `/v1/pools/${pool.id}`, { name: 'Front desk' });
    expect(renamed.body.pool).toMatchObject({ id: pool.id, name: 'Front desk' });
    // POST renames as well (form clients), here as comma-separated text for the devices.
    const added = await call(alice, 'POST', `/v1/pools/${pool.id}/devices`, {
      device_ids: `${phones[2]}, ${phones[1]}`,
    });
    expect(added.body.pool.members.map((member: Json) => member.device_id)).toEqual(phones.slice(0, 3));
    const removed = await call(alice, 'POST', `/v1/pools/${pool.id}/devices/remove`, {
      device_ids: [phones[0], phones[2]],
    });
    expect(removed.body.pool.members.map((member: Json) => member.device_id)).toEqual([phones[1]]);
    const one = await call(alice, 'DELETE', `/v1/pools/${pool.id}/devices/${phones[1]}`);
    expect(one.body.pool).toMatchObject({ members: [], online: 0 });

    const second = await create(alice, { name: 'Night shift' });
    const list = await call(alice, 'GET', '/v1/pools');
    expect(list.body.pools.map((p: Json) => [p.id, p.name])).toEqual([
      [pool.id, 'Front desk'],
      [second.id, 'Night shift'],
    ]);

    expect((await call(alice, 'DELETE', `/v1/pools/${pool.id}`)).body).toEqual({
      error: 0,
      message: 'OK',
      pool_id: pool.id,
    });
    expect(await call(alice, 'GET', `/v1/pools/${pool.id}`)).toMatchObject({
      status: 404,
      body: { error: 1, code: 'not_found' },
    });
    await call(alice, 'DELETE', `/v1/pools/${second.id}`);
  });

  it('keeps a device in one pool at most; getalldevices and /v1/devices show it; a removed device leaves', async () => {
    const first = await create(alice, { name: 'A', device_ids: [phones[0], phones[3]] });
    const second = await create(alice, { name: 'B' });
    const twice = await call(alice, 'POST', `/v1/pools/${second.id}/devices`, {
      device_ids: [phones[1], phones[3]],
    });
    expect(twice).toMatchObject({ status: 400, body: { error: 1, code: 'validation' } });
    expect(twice.body.message).toBe(
      `device_ids: device ${phones[3]} is in pool ${first.id}; a device is in one pool at most, remove it there first`,
    );
    // All or none: the other device did not join either.
    expect((await call(alice, 'GET', `/v1/pools/${second.id}`)).body.pool.members).toEqual([]);
    // Adding a member again changes nothing.
    const again = await call(alice, 'POST', `/v1/pools/${first.id}/devices`, { device_ids: [phones[0]] });
    expect(again.body.pool.members.map((member: Json) => member.device_id)).toEqual([phones[0], phones[3]]);

    const devices = (await call(alice, 'GET', '/v1/devices')).body.devices as Json[];
    expect(devices.map((device) => [device.id, device.pool_id])).toEqual([
      [phones[0], first.id],
      [phones[1], null],
      [phones[2], null],
      [phones[3], first.id],
    ]);
    const all = await getdata(system.apiUrl, 'getalldevices', { token: alice.token });
    const byId = all.body.device as Record<string, Json>;
    expect(byId[phones[3]].pool_id).toBe(first.id);
    expect(byId[phones[1]].pool_id).toBeNull();

    // Concurrent joins of one device to two pools: exactly one wins.
    const third = await create(alice, { name: 'C' });
    const race = await Promise.all(
      [second.id, third.id].map((id) =>
        call(alice, 'POST', `/v1/pools/${id}/devices`, { device_ids: [phones[2]] }),
      ),
    );
    expect(race.map((answer) => answer.status).sort()).toEqual([200, 400]);

    // A removed phone leaves its pool with the removal.
    expect((await call(alice, 'DELETE', `/v1/devices/${phones[3]}`)).status).toBe(200);
    expect(
      (await call(alice, 'GET', `/v1/pools/${first.id}`)).body.pool.members.map((m: Json) => m.device_id),
    ).toEqual([phones[0]]);
    const rejoin = await call(alice, 'POST', `/v1/pools/${second.id}/devices`, { device_ids: [phones[3]] });
    expect(rejoin).toMatchObject({ status: 400, body: { code: 'validation' } });
    expect(rejoin.body.message).toBe(`device_ids: ${phones[3]} not among your devices`);

    for (const pool of [first, second, third]) await call(alice, 'DELETE', `/v1/pools/${pool.id}`);
    const after = (await call(alice, 'GET', '/v1/devices')).body.devices as Json[];
    expect(after.every((device) => device.pool_id === null)).toBe(true);
  });

  it('isolates tenants: another account’s pools are not found, its devices cannot join', async () => {
    const mine = await create(alice, { name: 'Mine', device_ids: [phones[0]] });
    const theirs = await create(bob, { name: 'Mine' });
    expect(theirs.id).not.toBe(mine.id);

    const foreign = await call(alice, 'POST', `/v1/pools/${mine.id}/devices`, { device_ids: [bobPhone] });
    expect(foreign).toMatchObject({
      status: 400,
      body: { error: 1, code: 'validation', message: `device_ids: ${bobPhone} not among your devices` },
    });
    const atCreation = await call(alice, 'POST', '/v1/pools', { name: 'Sneaky', device_ids: [bobPhone] });
    expect(atCreation).toMatchObject({ status: 400, body: { code: 'validation' } });
    // Nothing half-written: the pool of the refused creation does not exist.
    expect((await call(alice, 'GET', '/v1/pools')).body.pools.map((pool: Json) => pool.name)).toEqual([
      'Mine',
    ]);

    for (const [method, path, body] of [
      ['GET', `/v1/pools/${mine.id}`, undefined],
      ['PATCH', `/v1/pools/${mine.id}`, { name: 'Taken over' }],
      ['POST', `/v1/pools/${mine.id}/devices`, { device_ids: [bobPhone] }],
      ['POST', `/v1/pools/${mine.id}/devices/remove`, { device_ids: [phones[0]] }],
      ['DELETE', `/v1/pools/${mine.id}/devices/${phones[0]}`, undefined],
      ['DELETE', `/v1/pools/${mine.id}`, undefined],
    ] as const) {
      const answer = await call(bob, method, path, body);
      expect([method, path, answer.status, answer.body.code]).toEqual([method, path, 404, 'not_found']);
    }
    expect((await call(bob, 'GET', '/v1/pools')).body.pools.map((pool: Json) => pool.id)).toEqual([
      theirs.id,
    ]);
    expect((await call(alice, 'GET', `/v1/pools/${mine.id}`)).body.pool).toMatchObject({
      name: 'Mine',
      members: [{ device_id: phones[0] }],
    });
    // No token, and a dashboard session (cookie + CSRF) reaches the same pools.
    const anonymous = await fetch(`${system.apiUrl}/v1/pools`);
    expect(anonymous.status).toBe(401);
    const session = await fetch(`${system.apiUrl}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: alice.email, password: alice.password }),
    });
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0];
    const csrf = ((await session.json()) as Json).csrf_token as string;
    const viaSession = await fetch(`${system.apiUrl}/v1/pools`, {
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(((await viaSession.json()) as Json).pools.map((pool: Json) => pool.id)).toEqual([mine.id]);

    await call(alice, 'DELETE', `/v1/pools/${mine.id}`);
    await call(bob, 'DELETE', `/v1/pools/${theirs.id}`);
  });

  it('refuses bad input with a validation error naming the field, and writes nothing', async () => {
    const pool = await create(alice, { name: 'Valid' });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/pools', {}, 400, 'name is required'],
      ['POST', '/v1/pools', { name: '   ' }, 400, 'name must not be empty'],
      ['POST', '/v1/pools', { name: 'x'.repeat(101) }, 400, 'name is longer than 100 characters'],
      ['POST', '/v1/pools', { name: 42 }, 400, 'name must be text'],
      ['POST', '/v1/pools', { name: 'a\u0000b' }, 400, 'name must not contain control characters'],
      ['POST', '/v1/pools', { name: 'VALID' }, 400, 'name: you already have a pool named "VALID"'],
      ['POST', '/v1/pools', { name: 'n', device_ids: 'x' }, 400, 'device_ids must be a whole number'],
      ['POST', '/v1/pools', { name: 'n', device_ids: [0] }, 400, 'device_ids must be'],
      ['POST', '/v1/pools', { name: 'n', device_ids: { a: 1 } }, 400, 'device_ids must be a list'],
      [
        'POST',
        '/v1/pools',
        { name: 'n', device_ids: Array.from({ length: 1_001 }, (_, i) => i + 1) },
        400,
        'device_ids has more than 1000 items',
      ],
      ['POST', `/v1/pools/${pool.id}/devices`, {}, 400, 'device_ids is required'],
      ['POST', `/v1/pools/${pool.id}/devices`, { device_ids: [] }, 400, 'device_ids needs at least one'],
      ['POST', `/v1/pools/${pool.id}/devices/remove`, { device_ids: [phones[0]] }, 404, 'not in pool'],
      ['PATCH', `/v1/pools/${pool.id}`, {}, 400, 'name is required'],
      ['GET', '/v1/pools/abc', undefined, 404, 'pool abc not found among yours'],
      ['GET', '/v1/pools/99999999999', undefined, 404, 'not found among yours'],
      ['DELETE', `/v1/pools/${pool.id}/devices/x`, undefined, 404, 'not in pool'],
    ];
    for (const [method, path, body, status, message] of cases) {
      const answer = await call(alice, method, path, body);
      expect([method, path, answer.status, answer.body.error]).toEqual([method, path, status, 1]);
      expect(answer.body.message).toContain(message);
    }
    // A malformed JSON body is the API's error too, never a 500.
    const malformed = await fetch(`${system.apiUrl}/v1/pools`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(malformed.status).toBe(400);
    expect(((await call(alice, 'GET', '/v1/pools')).body.pools as Json[]).map((p) => p.name)).toEqual([
      'Valid',
    ]);
    await call(alice, 'DELETE', `/v1/pools/${pool.id}`);
  });

  it('documents every route in the OpenAPI document, with its errors', async () => {
    const document = (await (await fetch(`${system.apiUrl}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { tags: string[]; responses: Record<string, unknown> }>>;
    };
    const routes = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/v1/pools'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => [method, path, Object.keys(op.responses)] as const),
      );
    expect(routes).toEqual([
      ['post', '/v1/pools', ['200', '400', '401']],
      ['get', '/v1/pools', ['200', '400', '401']],
      ['get', '/v1/pools/{id}', ['200', '400', '401', '404']],
      ['post', '/v1/pools/{id}', ['200', '400', '401', '404']],
      ['patch', '/v1/pools/{id}', ['200', '400', '401', '404']],
      ['delete', '/v1/pools/{id}', ['200', '400', '401', '404']],
      ['post', '/v1/pools/{id}/devices', ['200', '400', '401', '404']],
      ['post', '/v1/pools/{id}/devices/remove', ['200', '400', '401', '404']],
      ['delete', '/v1/pools/{id}/devices/{device_id}', ['200', '400', '401', '404']],
    ]);
    expect(document.paths['/v1/devices'].get.responses['200']).toBeDefined();
  });
});
