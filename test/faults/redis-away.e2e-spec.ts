import { registerPhone } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { freePort } from '../harness/free-port';
import { Account, TestSystem } from '../harness/test-system';

/** With Redis unreachable, answers that need it say "retry" in bounded time; the rest keep working. */
describe('the API while Redis is away', () => {
  let system: TestSystem;
  let alice: Account;
  let device: number;

  beforeAll(async () => {
    // Nothing listens there.
    system = await TestSystem.start(['api'], {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
      RATE_LIMIT_FAILED_LOGINS_PER_EMAIL: '3',
    });
    alice = system.createAccount();
    device = (await registerPhone(system.apiUrl, alice.email, alice.password, 'p')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
  });

  it.each([['getdevicestatus'], ['getalldevices']])(
    '%s answers 503 "retry" within seconds, not a hang',
    async (method) => {
      const started = Date.now();
      const answer = await getdata(system.apiUrl, method, { token: alice.token, device_id: device });
      expect(answer).toEqual({
        status: 503,
        body: { error: 1, code: 'unavailable', message: 'temporarily unavailable, retry' },
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    },
  );

  it('getallsms and savetag, which need only PostgreSQL, still answer', async () => {
    expect((await getdata(system.apiUrl, 'getallsms', { token: alice.token })).body).toMatchObject({
      error: 0,
    });
    expect((await getdata(system.apiUrl, 'savetag', { token: alice.token, title: 't' })).body).toMatchObject({
      error: 0,
    });
  });

  it('password logins still answer in bounded time, and the limits are counted in the process meanwhile', async () => {
    const started = Date.now();
    const answer = await getdata(system.apiUrl, 'gettoken', { email: alice.email, pass: alice.password });
    expect(answer.body).toMatchObject({ error: 0, token: alice.token });
    const wrong = await Promise.all(
      Array.from({ length: 6 }, () =>
        getdata(system.apiUrl, 'gettoken', { email: alice.email, pass: 'wrong' }),
      ),
    );
    expect(wrong.map((a) => a.body.code).sort()).toEqual([
      'invalid_credentials',
      'invalid_credentials',
      'invalid_credentials',
      'rate_limited',
      'rate_limited',
      'rate_limited',
    ]);
    const locked = await getdata(system.apiUrl, 'gettoken', { email: alice.email, pass: alice.password });
    expect(locked.body).toMatchObject({ error: 1, code: 'rate_limited' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('addalotofsms stores the messages and answers; the outbox sweep will enqueue them later', async () => {
    const smsdata = Array.from({ length: 3 }, (_, i) => ({
      sendto: `+491570000000${i}`,
      body: 'x',
      device_id: device,
    }));
    const started = Date.now();
    const answer = await getdata(
      system.apiUrl,
      'addalotofsms',
      { datajson: JSON.stringify({ token: alice.token, smsdata }) },
      'form',
    );
    expect(answer.body).toMatchObject({ error: 0, count: 3 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const rows = await system.query(`SELECT count(*)::int AS n FROM messages WHERE enqueued_at IS NULL`);
    expect(rows).toEqual([{ n: 3 }]);
  });
});
