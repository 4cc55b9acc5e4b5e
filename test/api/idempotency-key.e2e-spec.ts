import { registerPhone } from '../../tools/simulator/fleet';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

type Answer = { status: number; body: Record<string, unknown> };

/** Idempotency-Key on addsms, addalotofsms and savepaket: a retried request is stored once. */
describe('Idempotency-Key', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let aliceDevice: number;
  let bobDevice: number;

  beforeAll(async () => {
    // Concurrent duplicates of one account must all reach the idempotency check: the one-bulk-at-a-time
    // limit (refusing them first) is lifted here; test/api/bulk-sms covers it.
    system = await TestSystem.start(['api'], { API_BULK_CONCURRENCY_PER_ACCOUNT: '20' });
    alice = system.createAccount();
    bob = system.createAccount();
    aliceDevice = (await registerPhone(system.apiUrl, alice.email, alice.password, 'a1')).deviceId;
    bobDevice = (await registerPhone(system.apiUrl, bob.email, bob.password, 'b1')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
  });

  async function post(method: string, body: unknown, key?: string): Promise<Answer> {
    const response = await fetch(`${system.apiUrl}/getdata/${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function count(sql: string, params: unknown[]): Promise<number> {
    const [{ n }] = await system.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
    return n;
  }

  const messagesWith = (body: string) => count(`messages WHERE body = $1`, [body]);

  it('addsms: a replay answers the same ids and stores nothing more', async () => {
    const request = {
      token: alice.token,
      device_id: aliceDevice,
      sendto: '+4915700000001,+4915700000002',
      body: 'idem-1',
    };
    const first = await post('addsms', request, 'k-addsms-1');
    expect(first.body).toMatchObject({ error: 0, sms_ids: [expect.any(Number), expect.any(Number)] });
    // The same request spelled differently (query string) is the same request.
    const query = new URLSearchParams({ ...request, device_id: String(aliceDevice) });
    const replay = await fetch(`${system.apiUrl}/getdata/addsms?${query}`, {
      headers: { 'idempotency-key': 'k-addsms-1' },
    });
    expect(await replay.json()).toEqual(first.body);
    expect(await messagesWith('idem-1')).toBe(2);
  });

  it('addsms without a key stores each request (the header is optional)', async () => {
    const request = {
      token: alice.token,
      device_id: aliceDevice,
      sendto: '+4915700000003',
      body: 'idem-none',
    };
    const a = await post('addsms', request);
    const b = await post('addsms', request);
    expect(a.body.sms_id).not.toEqual(b.body.sms_id);
    expect(await messagesWith('idem-none')).toBe(2);
  });

  it('the same key with a different body is a clear error and stores nothing', async () => {
    const request = { token: alice.token, device_id: aliceDevice, sendto: '+4915700000004', body: 'idem-2' };
    expect((await post('addsms', request, 'k-conflict')).body).toMatchObject({ error: 0 });
    const other = await post('addsms', { ...request, body: 'idem-2-changed' }, 'k-conflict');
    expect(other).toEqual({
      status: 200,
      body: { error: 1, code: 'idempotency_conflict', message: expect.stringContaining('k-conflict') },
    });
    const elsewhere = await post(
      'addalotofsms',
      { token: alice.token, smsdata: [{ sendto: '+4915700000004', body: 'idem-2', device_id: aliceDevice }] },
      'k-conflict',
    );
    expect(elsewhere.body).toMatchObject({ error: 1, code: 'idempotency_conflict' });
    expect(await messagesWith('idem-2')).toBe(1);
    expect(await messagesWith('idem-2-changed')).toBe(0);
  });

  it('keys are per account: another account may use the same key', async () => {
    const aliceAnswer = await post(
      'addsms',
      { token: alice.token, device_id: aliceDevice, sendto: '+4915700000005', body: 'idem-alice' },
      'k-shared',
    );
    const bobAnswer = await post(
      'addsms',
      { token: bob.token, device_id: bobDevice, sendto: '+4915700000005', body: 'idem-bob' },
      'k-shared',
    );
    expect(aliceAnswer.body).toMatchObject({ error: 0 });
    expect(bobAnswer.body).toMatchObject({ error: 0 });
    expect(bobAnswer.body.sms_id).not.toEqual(aliceAnswer.body.sms_id);
    expect(await messagesWith('idem-bob')).toBe(1);
  });

  it('addalotofsms: 20 concurrent duplicates resolve to one insert with one set of ids', async () => {
    const smsdata = Array.from({ length: 500 }, (_, i) => ({
      sendto: `+49157${String(i).padStart(7, '0')}`,
      body: 'idem-bulk',
      device_id: aliceDevice,
    }));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post('addalotofsms', { token: alice.token, smsdata }, 'k-bulk')),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0].body).toMatchObject({ error: 0, count: 500 });
    const ids = answers[0].body.sms_ids as number[];
    const stored = await system.query<{ id: number }>(
      `SELECT id::int FROM messages WHERE body = 'idem-bulk' ORDER BY id`,
    );
    expect(stored.map((row) => row.id)).toEqual(ids);
    expect(await count(`idempotency_keys WHERE key = 'k-bulk'`, [])).toBe(1);
  });

  it('a rejected request leaves no key behind: fixing it and retrying with the key works', async () => {
    const bad = {
      token: alice.token,
      smsdata: [{ sendto: '+4915700000006', body: 'idem-fixed', device_id: bobDevice }],
    };
    expect((await post('addalotofsms', bad, 'k-fix')).body).toMatchObject({ error: 1, code: 'not_found' });
    expect(await count(`idempotency_keys WHERE key = 'k-fix'`, [])).toBe(0);
    const good = { token: alice.token, smsdata: [{ ...bad.smsdata[0], device_id: aliceDevice }] };
    expect((await post('addalotofsms', good, 'k-fix')).body).toMatchObject({ error: 0, count: 1 });
    expect(await messagesWith('idem-fixed')).toBe(1);
  });

  it('savepaket and createpaket: a replay answers the same paket id', async () => {
    const tag = await post('savetag', { token: alice.token, title: 'idem tag' });
    const request = {
      token: alice.token,
      title: 'idem paket',
      device_id: aliceDevice,
      body: 'paket body',
      tags: String(tag.body.tag_id),
    };
    const first = await post('savepaket', request, 'k-paket');
    const again = await post('createpaket', request, 'k-paket');
    expect(first.body).toMatchObject({ error: 0, paket_id: expect.any(Number) });
    expect(again.body).toEqual(first.body);
    expect(await count(`newsletters WHERE title = 'idem paket'`, [])).toBe(1);
  });

  it.each([['x'.repeat(201)], ['with space'], ['ünïcode']])('refuses the key %j', async (key) => {
    const answer = await post(
      'addsms',
      { token: alice.token, device_id: aliceDevice, sendto: '+4915700000007', body: 'idem-badkey' },
      key,
    ).catch((error: Error) => ({ status: 0, body: { fetchError: error.message } }));
    // fetch itself refuses non-ByteString header values; what reaches the server is refused by it.
    if (answer.status !== 0) expect(answer.body).toMatchObject({ error: 1, code: 'validation' });
    expect(await messagesWith('idem-badkey')).toBe(0);
  });

  it('the OpenAPI document shows the header on the three methods', async () => {
    const document = (await (await fetch(`${system.apiUrl}/docs-json`)).json()) as {
      paths: Record<string, { post: { parameters?: Array<{ name: string; in: string }> } }>;
    };
    for (const path of ['addsms', 'smstosend', 'addalotofsms', 'savepaket', 'createpaket'])
      expect(document.paths[`/getdata/${path}`].post.parameters).toContainEqual(
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
      );
    expect(document.paths['/getdata/getsmsstatus'].post.parameters ?? []).toEqual([]);
  });

  it('the scheduler purges keys past their retention in batches and keeps fresh ones', async () => {
    const request = (body: string) => ({
      token: alice.token,
      device_id: aliceDevice,
      sendto: '+4915700000009',
      body,
    });
    const old = await post('addsms', request('idem-old'), 'k-retention-old');
    const fresh = await post('addsms', request('idem-fresh'), 'k-retention-fresh');
    expect([old.body.error, fresh.body.error]).toEqual([0, 0]);
    // Aged past the retention: this key, and more than two batches' worth of Bob's.
    await system.query(`UPDATE idempotency_keys SET created_at = now() - interval '2 hours' WHERE key = $1`, [
      'k-retention-old',
    ]);
    await system.query(
      `INSERT INTO idempotency_keys (user_id, key, endpoint, fingerprint, result_ids, created_at)
       SELECT u.id, 'k-aged-' || n, 'addsms', 'x', '{}', now() - interval '2 hours'
         FROM users u, generate_series(1, 2500) AS n WHERE u.email = $1`,
      [bob.email],
    );
    await system.startApp('scheduler', 'scheduler', {
      IDEMPOTENCY_KEY_RETENTION_SECONDS: '3600',
      SCHEDULER_EXPIRY_INTERVAL_MS: '200',
    });
    await waitFor(
      'old keys purged',
      async () => (await count(`idempotency_keys WHERE created_at < now() - interval '1 hour'`, [])) === 0,
      30_000,
    );
    expect(await count(`idempotency_keys WHERE key = $1`, ['k-retention-fresh'])).toBe(1);
    // A fresh key still replays; a purged one is a new request (retried after the retention).
    expect((await post('addsms', request('idem-fresh'), 'k-retention-fresh')).body).toEqual(fresh.body);
    const again = await post('addsms', request('idem-old'), 'k-retention-old');
    expect(again.body).toMatchObject({ error: 0 });
    expect(again.body.sms_id).not.toBe(old.body.sms_id);
    expect(await messagesWith('idem-fresh')).toBe(1);
  });
});
