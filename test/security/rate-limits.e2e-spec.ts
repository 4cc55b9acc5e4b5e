import { Client } from 'pg';
import { getdata } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';

const WINDOW_SECONDS = 6;
const STATEMENT_TIMEOUT_MS = 1_500;

/** Brute-force limits on password checks and phone registration, counted in Redis across API replicas. */
describe('rate limits', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start(['api'], {
      RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
      RATE_LIMIT_CREDENTIALS_PER_IP: '10',
      RATE_LIMIT_FAILED_LOGINS_PER_EMAIL: '3',
      RATE_LIMIT_REGISTRATIONS_PER_IP: '4',
      API_TRUST_PROXY: 'true',
      API_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      API_LISTINGS_PER_ACCOUNT: '1',
      API_LISTINGS_IN_FLIGHT: '2',
    });
    // A second replica: the counters live in Redis, so the limits hold across both.
    await system.startApp('api', 'api2');
  });

  afterAll(async () => {
    await system?.stop();
  });

  /** Each test its own client IP (X-Forwarded-For, trusted here), so windows do not leak between tests. */
  let ipCounter = 0;
  const nextIp = () => `203.0.113.${++ipCounter}`;

  async function call(base: string, method: string, params: Record<string, string>, ip: string) {
    const response = await fetch(`${base}/getdata/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(params),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function register(base: string, account: Account, ip: string) {
    const response = await fetch(`${base}/v1/devices/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ token: account.token, title: 'phone' }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const replicas = () => [system.apiUrl, system.url('api2')];

  it('gettoken: failed logins of one email are limited across replicas; the owner gets in after the window', async () => {
    const alice = system.createAccount();
    const ip = nextIp();
    for (let i = 0; i < 3; i++) {
      const wrong = await call(replicas()[i % 2], 'gettoken', { email: alice.email, pass: 'wrong' }, ip);
      expect(wrong.body).toMatchObject({ error: 1, code: 'invalid_credentials' });
    }
    // Even the right password is refused while the email is locked (from another IP and replica too).
    for (const base of replicas()) {
      const limited = await call(base, 'gettoken', { email: alice.email, pass: alice.password }, nextIp());
      expect(limited).toEqual({
        status: 200,
        body: { error: 1, code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) },
      });
    }
    // Counted case-insensitively: the same mailbox.
    const upper = await call(system.apiUrl, 'gettoken', { email: alice.email.toUpperCase(), pass: 'x' }, ip);
    expect(upper.body).toMatchObject({ code: 'rate_limited' });
    await new Promise((resolve) => setTimeout(resolve, WINDOW_SECONDS * 1_000 + 300));
    const after = await call(system.apiUrl, 'gettoken', { email: alice.email, pass: alice.password }, ip);
    expect(after.body).toMatchObject({ error: 0, token: alice.token });
  });

  it('concurrent wrong guesses at one email cannot pass its limit: the failure is counted before the check', async () => {
    const victim = system.createAccount();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(
          replicas()[i % 2],
          'gettoken',
          { email: victim.email, pass: `guess${i}` },
          `198.51.100.${i + 1}`,
        ),
      ),
    );
    const codes = answers.map((a) => a.body.code);
    expect(codes.filter((c) => c === 'invalid_credentials')).toHaveLength(3);
    expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(27);
    // The owner is locked out for the window like after sequential failures.
    const owner = await call(
      system.apiUrl,
      'gettoken',
      { email: victim.email, pass: victim.password },
      nextIp(),
    );
    expect(owner.body).toMatchObject({ code: 'rate_limited' });
  });

  it('successful logins do not lock an email: a client sending with email + pass keeps working', async () => {
    const bob = system.createAccount();
    const ip = nextIp();
    for (let i = 0; i < 8; i++) {
      const ok = await call(replicas()[i % 2], 'gettoken', { email: bob.email, pass: bob.password }, ip);
      expect(ok.body).toMatchObject({ error: 0 });
    }
  });

  it('password checks from one IP are limited (any email), on addsms and smstosend too', async () => {
    const ip = nextIp();
    const carol = system.createAccount();
    const answers = await Promise.all(
      Array.from({ length: 13 }, (_, i) =>
        call(
          replicas()[i % 2],
          ['gettoken', 'addsms', 'smstosend'][i % 3],
          {
            email: `nobody${i}@example.com`,
            pass: 'guess',
            device_id: '1',
            sendto: '+4915700000001',
            body: 'x',
          },
          ip,
        ),
      ),
    );
    const codes = answers.map((a) => a.body.code);
    expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(3);
    expect(codes.filter((c) => c === 'invalid_credentials')).toHaveLength(10);
    // The limit is the IP's: a right password from it is refused now, and fine from elsewhere.
    const fromIp = await call(system.apiUrl, 'addsms', { email: carol.email, pass: carol.password }, ip);
    expect(fromIp.body).toMatchObject({ error: 1, code: 'rate_limited' });
    const elsewhere = await call(
      system.apiUrl,
      'gettoken',
      { email: carol.email, pass: carol.password },
      nextIp(),
    );
    expect(elsewhere.body).toMatchObject({ error: 0 });
    // Tokens are not limited.
    const byToken = await getdata(system.apiUrl, 'getalldevices', { token: carol.token });
    expect(byToken.body).toMatchObject({ error: 0 });
  });

  it('phone registration is limited per IP with HTTP 429, and nothing is stored when refused', async () => {
    const dave = system.createAccount();
    const ip = nextIp();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await register(replicas()[i % 2], dave, ip));
    expect(answers.slice(0, 4).map((a) => a.status)).toEqual([201, 201, 201, 201]);
    for (const refused of answers.slice(4))
      expect(refused).toEqual({
        status: 429,
        body: { error: 1, code: 'rate_limited', message: expect.stringMatching(/retry in/) },
      });
    const [{ n }] = await system.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM devices d JOIN users u ON u.id = d.user_id WHERE u.email = $1`,
      [dave.email],
    );
    expect(n).toBe(4);
  });

  it.each([
    ['a hop count (API_TRUST_PROXY=1, also what the older "true" now means)', undefined],
    ['a list of proxy addresses (API_TRUST_PROXY=127.0.0.1/8)', '127.0.0.1/8'],
  ])('trusting %s, a client cannot choose its IP by writing X-Forwarded-For', async (_, list) => {
    let base = system.apiUrl;
    if (list) {
      await system.startApp('api', 'api-list', { API_TRUST_PROXY: list });
      base = system.url('api-list');
    }
    const dave = system.createAccount();
    // The proxy (here: the test) appends the address it saw; the client wrote the entries before it.
    const seen = `198.18.${list ? 1 : 0}.1`;
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${base}/v1/devices/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${100 + i}, ${seen}` },
        body: JSON.stringify({ token: dave.token, title: 'phone' }),
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
    if (list) await system.stopApp('api-list');
  });

  it('keeps no email address in Redis keys', async () => {
    const keys = await system.redis().keys(`${system.redisPrefix}:rate:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toMatch(/@/);
  });

  it('listings: one account runs one at a time (429), all accounts two (503), none past the statement timeout', async () => {
    const [alice, bob, carol] = [system.createAccount(), system.createAccount(), system.createAccount()];
    // Every statement on messages waits behind this lock: the listings below are certainly in flight together.
    const locker = new Client({ connectionString: system.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
    const list = (account: Account) => getdata(system.apiUrl, 'getallsms', { token: account.token });
    try {
      const started = Date.now();
      const first = list(alice);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await list(alice)).body).toEqual({
        error: 1,
        code: 'rate_limited',
        message: 'at most 1 listings of one account at a time; retry when one has answered',
      });
      const second = list(bob);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await list(carol)).toEqual({
        status: 503,
        body: { error: 1, code: 'unavailable', message: 'too many listings in progress; retry in a moment' },
      });
      // Everything else still answers at once.
      expect(
        (await getdata(system.apiUrl, 'gettoken', { email: carol.email, pass: carol.password })).body,
      ).toMatchObject({ error: 0 });
      // PostgreSQL cancels the waiting listings after API_STATEMENT_TIMEOUT_MS: "retry", not a hang.
      for (const answer of await Promise.all([first, second]))
        expect(answer).toEqual({
          status: 503,
          body: {
            error: 1,
            code: 'unavailable',
            message:
              'the request took the database too long; narrow it (begindate/enddate, device_id, status) or retry',
          },
        });
      expect(Date.now() - started).toBeLessThan(STATEMENT_TIMEOUT_MS + 3_000);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect((await list(alice)).body).toMatchObject({ error: 0, count: 0 });
    expect(
      (await getdata(system.apiUrl, 'getallsms', { token: alice.token, offset: 999_999, limit: 2 })).body,
    ).toEqual({
      error: 1,
      code: 'validation',
      message:
        'offset + limit may reach 1000000 rows at most (got 1000001); narrow by begindate/enddate instead',
    });
  });
});
