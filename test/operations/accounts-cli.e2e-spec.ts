import { spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getdata } from '../helpers/api-client';
import { TestSystem } from '../harness/test-system';

const ROOT = join(__dirname, '..', '..');

describe('account CLI and tokens', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // A minute's token cache: a rotation refused at once below is the signal's doing, not the cache expiring.
    system = await TestSystem.start(['api'], { API_TOKEN_CACHE_MS: '60000' });
  });

  afterAll(async () => {
    await system?.stop();
  });

  const cli = (...args: string[]) => cliWith({}, undefined, ...args);
  const cliWith = (env: Record<string, string>, input: string | undefined, ...args: string[]) =>
    spawnSync(
      process.execPath,
      ['-r', join(ROOT, 'scripts/register-aliases.js'), join(ROOT, 'dist/tools/cli.js'), ...args],
      {
        cwd: ROOT,
        env: { ...system.env(), ...env },
        encoding: 'utf8',
        input,
      },
    );
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const userId = async (email: string) =>
    (await system.query<{ id: number }>(`SELECT id FROM users WHERE email = $1`, [email]))[0].id;

  it('creates an account whose token gettoken hands out again and again, until it is rotated', async () => {
    const account = system.createAccount('rotate@example.com', 'first password');
    const first = await getdata(system.apiUrl, 'gettoken', {
      email: 'rotate@example.com',
      pass: 'first password',
    });
    const second = await getdata(
      system.apiUrl,
      'gettoken',
      { email: 'ROTATE@example.com', pass: 'first password' },
      'form',
    );
    expect(first.body.token).toBe(account.token);
    expect(second.body.token).toBe(account.token);
    const [{ stored }] = await system.query<{ stored: number }>(
      'SELECT count(*)::int AS stored FROM api_tokens WHERE token_hash = $1',
      [account.token],
    );
    expect(stored).toBe(0); // only the hash is stored

    const rotated = cli('token:rotate', '--email', 'rotate@example.com');
    expect(rotated.status).toBe(0);
    const newToken = rotated.stdout.trim();
    expect(newToken).toMatch(/^[0-9a-f]{64}$/);
    expect(newToken).not.toBe(account.token);

    const old = await getdata(system.apiUrl, 'getsmsstatus', { token: account.token, sms_id: 1 });
    expect(old.body).toMatchObject({ error: 1, code: 'invalid_token' });
    const current = await getdata(system.apiUrl, 'gettoken', {
      email: 'rotate@example.com',
      pass: 'first password',
    });
    expect(current.body.token).toBe(newToken);
    expect(cli('token:show', '--email', 'rotate@example.com').stdout.trim()).toBe(newToken);
    // The bearer header works as well as the parameter.
    const viaHeader = await fetch(`${system.apiUrl}/getdata/getsmsstatus?sms_id=1`, {
      headers: { authorization: `Bearer ${newToken}` },
    });
    expect(await viaHeader.json()).toMatchObject({ error: 1, code: 'not_found' });
  });

  it('a token the api has cached is refused as soon as the CLI rotates it, and after a password change', async () => {
    const account = system.createAccount('cached@example.com', 'first password');
    const status = (token: string) => getdata(system.apiUrl, 'getsmsstatus', { token, sms_id: 1 });
    expect((await status(account.token)).body).toMatchObject({ code: 'not_found' }); // cached now
    const rotated = cli('token:rotate', '--email', 'cached@example.com');
    expect(rotated.status).toBe(0);
    const newToken = rotated.stdout.trim();
    expect((await status(account.token)).body).toMatchObject({ code: 'invalid_token' });
    expect((await status(newToken)).body).toMatchObject({ code: 'not_found' }); // cached in turn
    const changed = cliWith(
      {},
      'second password\n',
      'user:password',
      '--email',
      'cached@example.com',
      '--password-stdin',
    );
    expect(changed.status).toBe(0);
    expect((await status(newToken)).body).toMatchObject({ code: 'invalid_token' });
  });

  it('rotates a token when Redis is away, within its publish timeout', async () => {
    system.createAccount('noredis@example.com', 'first password');
    const started = Date.now();
    const rotated = cliWith(
      { REDIS_URL: 'redis://127.0.0.1:1' },
      undefined,
      'token:rotate',
      '--email',
      'noredis@example.com',
    );
    expect(rotated.status).toBe(0);
    expect(rotated.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.stderr).toContain('Redis not reached: API replicas may accept the old token for up to');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('changes a password, read from standard input, and rotates the token with it', async () => {
    const before = system.createAccount('pw@example.com', 'old password');
    const changed = cliWith(
      {},
      'new password\n',
      'user:password',
      '--email',
      'pw@example.com',
      '--password-stdin',
    );
    expect(changed.status).toBe(0);
    const newToken = changed.stdout.trim().split('\n').pop();
    expect(newToken).toMatch(/^[0-9a-f]{64}$/);
    expect(newToken).not.toBe(before.token);
    expect(
      (await getdata(system.apiUrl, 'gettoken', { email: 'pw@example.com', pass: 'old password' })).body
        .error,
    ).toBe(1);
    expect(
      (await getdata(system.apiUrl, 'gettoken', { email: 'pw@example.com', pass: 'new password' })).body,
    ).toMatchObject({ error: 0, token: newToken });
    // Whoever knew the old password may know the old token: it no longer works (after the 5 s cache).
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    expect((await getdata(system.apiUrl, 'getalldevices', { token: before.token })).body).toMatchObject({
      error: 1,
      code: 'invalid_token',
    });
    // --password keeps working, and user:create takes the password from standard input too.
    expect(cli('user:password', '--email', 'pw@example.com', '--password', 'third password').status).toBe(0);
    const created = cliWith(
      {},
      'stdin password\n',
      'user:create',
      '--email',
      'stdin@example.com',
      '--password-stdin',
    );
    expect(created.status).toBe(0);
    expect(
      (await getdata(system.apiUrl, 'gettoken', { email: 'stdin@example.com', pass: 'stdin password' })).body,
    ).toMatchObject({ error: 0, token: JSON.parse(created.stdout.trim()).token });
  });

  it('keeps no token, and nothing to compute one from, in the database', async () => {
    const account = system.createAccount('dump@example.com', 'dump password');
    const rows = await system.query<{ token_hash: string; sealed: string }>(
      `SELECT token_hash, sealed FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL`,
      [await userId('dump@example.com')],
    );
    expect(rows).toEqual([{ token_hash: sha256(account.token), sealed: expect.stringMatching(/^v1:/) }]);
    expect(JSON.stringify(rows)).not.toContain(account.token);
    // A fresh installation never had the old database secret tokens were derived from.
    expect(await system.query(`SELECT name FROM instance_secrets`)).toEqual([]);
  });

  it('keeps the phone registration token like the API token: random, sealed, the same until rotated', async () => {
    system.createAccount('phones@example.com', 'phones password');
    const id = await userId('phones@example.com');
    const first = cli('phone:token', '--email', 'phones@example.com').stdout.trim();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(cli('phone:token', '--email', 'phones@example.com').stdout.trim()).toBe(first);
    const rows = await system.query<{ token_hash: string; sealed: string }>(
      `SELECT token_hash, sealed FROM phone_registration_tokens WHERE user_id = $1`,
      [id],
    );
    expect(rows).toEqual([{ token_hash: sha256(first), sealed: expect.stringMatching(/^v1:/) }]);
    expect(JSON.stringify(rows)).not.toContain(first);
    const rotated = cli('phone:token', '--email', 'phones@example.com', '--rotate').stdout.trim();
    expect(rotated).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated).not.toBe(first);
    expect(cli('phone:token', '--email', 'phones@example.com').stdout.trim()).toBe(rotated);
    // Sealed for its purpose: the account's sealed API token copied into the row opens as nothing there,
    // and the registration token is replaced rather than the API token shown.
    await system.query(
      `UPDATE phone_registration_tokens p SET sealed = t.sealed, token_hash = t.token_hash
         FROM api_tokens t WHERE t.user_id = p.user_id AND t.revoked_at IS NULL AND p.user_id = $1`,
      [id],
    );
    const replaced = cli('phone:token', '--email', 'phones@example.com').stdout.trim();
    expect(replaced).toMatch(/^[0-9a-f]{64}$/);
    expect([rotated, cli('token:show', '--email', 'phones@example.com').stdout.trim()]).not.toContain(
      replaced,
    );
  });

  describe('an installation from before sealing (tokens derived from a secret in the database)', () => {
    const oldSecret = randomBytes(32).toString('hex');
    const derive = (secret: string, id: number, version: number) =>
      createHmac('sha256', secret).update(`api-token:${id}:${version}`).digest('hex');

    /** The account's token as the older version issued it: version 1, derived, not sealed. */
    async function legacyToken(email: string, secret: string): Promise<string> {
      system.createAccount(email, 'legacy password');
      const id = await userId(email);
      const token = derive(secret, id, 1);
      await system.query(
        `UPDATE api_tokens SET version = 1, token_hash = $2, sealed = NULL WHERE user_id = $1`,
        [id, sha256(token)],
      );
      return token;
    }

    /** The account's phone registration token as the older version issued it: derived, not sealed. */
    async function legacyPhoneToken(email: string, secret: string): Promise<string> {
      const id = await userId(email);
      const token = createHmac('sha256', secret).update(`phone-registration:${id}:1`).digest('hex');
      await system.query(
        `INSERT INTO phone_registration_tokens (user_id, version, token_hash) VALUES ($1, 1, $2)`,
        [id, sha256(token)],
      );
      return token;
    }

    beforeAll(async () => {
      await system.query(`INSERT INTO instance_secrets (name, value) VALUES ('api_token', $1)`, [oldSecret]);
    });

    it('keeps its tokens: gettoken answers the same token and seals it; token:reseal seals the rest and deletes the secret', async () => {
      const first = await legacyToken('legacy1@example.com', oldSecret);
      const second = await legacyToken('legacy2@example.com', oldSecret);
      const phones = await legacyPhoneToken('legacy2@example.com', oldSecret);
      // An API started before the secret was planted does not know it: a second one does.
      await system.startApp('api', 'api-legacy');
      const answered = await getdata(system.url('api-legacy'), 'gettoken', {
        email: 'legacy1@example.com',
        pass: 'legacy password',
      });
      expect(answered.body).toMatchObject({ error: 0, token: first });
      const [{ sealed }] = await system.query<{ sealed: string | null }>(
        `SELECT sealed FROM api_tokens WHERE token_hash = $1`,
        [sha256(first)],
      );
      expect(sealed).toMatch(/^v1:/);

      const resealed = cli('token:reseal');
      expect(resealed.status).toBe(0);
      expect(JSON.parse(resealed.stdout.trim().split('\n').pop() as string)).toMatchObject({
        resealed: 1,
        rotated: 0,
        phoneRegistrationTokens: { resealed: 1, rotated: 0 },
        databaseSecretDeleted: true,
      });
      // The phone registration token derived before is kept (phones set up with it still register), sealed.
      expect(cli('phone:token', '--email', 'legacy2@example.com').stdout.trim()).toBe(phones);
      const [phoneRow] = await system.query<{ sealed: string | null }>(
        `SELECT sealed FROM phone_registration_tokens WHERE token_hash = $1`,
        [sha256(phones)],
      );
      expect(phoneRow.sealed).toMatch(/^v1:/);
      expect(await system.query(`SELECT name FROM instance_secrets`)).toEqual([]);
      for (const [email, token] of [
        ['legacy1@example.com', first],
        ['legacy2@example.com', second],
      ]) {
        expect(
          (await getdata(system.apiUrl, 'gettoken', { email, pass: 'legacy password' })).body,
        ).toMatchObject({ error: 0, token });
        expect((await getdata(system.apiUrl, 'getalldevices', { token })).body).toMatchObject({ error: 0 });
      }
      await system.stopApp('api-legacy');
    });

    it('replaces a token that no configured secret opens (its secret was dropped) instead of failing', async () => {
      const orphan = await legacyToken('orphan@example.com', randomBytes(32).toString('hex'));
      const answered = await getdata(system.apiUrl, 'gettoken', {
        email: 'orphan@example.com',
        pass: 'legacy password',
      });
      expect(answered.body).toMatchObject({ error: 0, token: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(answered.body.token).not.toBe(orphan);
      expect(
        (await getdata(system.apiUrl, 'gettoken', { email: 'orphan@example.com', pass: 'legacy password' }))
          .body.token,
      ).toBe(answered.body.token);
    });
  });

  it('changes TOKEN_SECRET without changing any token: the earlier secret goes in TOKEN_SECRET_PREVIOUS', async () => {
    const account = system.createAccount('keyring@example.com', 'keyring password');
    const phones = cli('phone:token', '--email', 'keyring@example.com').stdout.trim();
    // The apps here run without TOKEN_SECRET: their development secret is the file in .smsfleet/.
    const development = readFileSync(join(ROOT, '.smsfleet', 'token-secret'), 'utf8').trim();
    const next = randomBytes(32).toString('hex');
    const env = { TOKEN_SECRET: next, TOKEN_SECRET_PREVIOUS: development };
    expect(cliWith(env, undefined, 'token:show', '--email', 'keyring@example.com').stdout.trim()).toBe(
      account.token,
    );
    const resealed = cliWith(env, undefined, 'token:reseal');
    expect(JSON.parse(resealed.stdout.trim().split('\n').pop() as string)).toMatchObject({ rotated: 0 });
    // Sealed with the new secret alone now.
    expect(
      cliWith(
        { TOKEN_SECRET: next },
        undefined,
        'token:show',
        '--email',
        'keyring@example.com',
      ).stdout.trim(),
    ).toBe(account.token);
    expect(
      cliWith(
        { TOKEN_SECRET: next },
        undefined,
        'phone:token',
        '--email',
        'keyring@example.com',
      ).stdout.trim(),
    ).toBe(phones);
    // Back to the secret the running apps have.
    expect(
      cliWith({ TOKEN_SECRET: development, TOKEN_SECRET_PREVIOUS: next }, undefined, 'token:reseal').status,
    ).toBe(0);
  });

  it('refuses a duplicate account, a short password and a missing option with a clear line', () => {
    system.createAccount('dup@example.com', 'a long password');
    const duplicate = cli('user:create', '--email', 'dup@example.com', '--password', 'a long password');
    expect(duplicate.status).toBe(3);
    expect(duplicate.stderr.trim()).toBe('an account with email dup@example.com already exists');
    const short = cli('user:create', '--email', 'short@example.com', '--password', 'abc');
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/at least 8 characters/);
    const missing = cli('user:create', '--email', 'x@example.com');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/--password-stdin \(or --password, or a terminal to ask on\) is required/);
  });
});
