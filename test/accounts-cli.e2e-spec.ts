import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { getdata } from './helpers/api-client';
import { TestSystem } from './helpers/test-system';

const ROOT = join(__dirname, '..');

describe('account CLI and tokens', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start(['api']);
  });

  afterAll(async () => {
    await system?.stop();
  });

  const cli = (...args: string[]) =>
    spawnSync(
      process.execPath,
      ['-r', join(ROOT, 'scripts/register-aliases.js'), join(ROOT, 'dist/tools/cli.js'), ...args],
      {
        cwd: ROOT,
        env: system.env(),
        encoding: 'utf8',
      },
    );

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

  it('changes a password', async () => {
    system.createAccount('pw@example.com', 'old password');
    expect(cli('user:password', '--email', 'pw@example.com', '--password', 'new password').status).toBe(0);
    expect(
      (await getdata(system.apiUrl, 'gettoken', { email: 'pw@example.com', pass: 'old password' })).body
        .error,
    ).toBe(1);
    expect(
      (await getdata(system.apiUrl, 'gettoken', { email: 'pw@example.com', pass: 'new password' })).body
        .error,
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
    expect(missing.stderr).toMatch(/--password is required/);
  });
});
