import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './app-config';
import { ConfigError } from './config-error';

// Certificate files must exist at start-up: real (empty) ones in a directory of the test's own.
const dir = mkdtempSync(join(tmpdir(), 'smsfleet-database-ssl-'));
const [CA, CERT, KEY] = ['ca.pem', 'client.pem', 'client.key'].map((file) => {
  writeFileSync(join(dir, file), file);
  return join(dir, file);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PostgreSQL TLS settings', () => {
  it('takes sslmode from DATABASE_URL and the certificate files beside it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/app?sslmode=require' }).databaseTls).toEqual({});
    expect(
      loadConfig({
        DATABASE_URL: 'postgres://u@db/app?sslmode=verify-full',
        DATABASE_SSL_CA_FILE: CA,
        DATABASE_SSL_CERT_FILE: CERT,
        DATABASE_SSL_KEY_FILE: KEY,
      }).databaseTls,
    ).toEqual({ caFile: CA, certFile: CERT, keyFile: KEY });
  });

  it.each([
    [
      { DATABASE_URL: 'postgres://db/app?sslmode=prefer' },
      'DATABASE_URL',
      /one of disable, require, verify-ca, verify-full \(got "prefer"\)/,
    ],
    [
      { DATABASE_URL: 'postgres://db/app?sslmode=require&sslrootcert=/ca.pem' },
      'DATABASE_URL',
      /no sslrootcert parameter: .*DATABASE_SSL_CA_FILE/,
    ],
    [{ DATABASE_URL: 'postgres://db/app?ssl=true' }, 'DATABASE_URL', /no ssl parameter/],
    [
      { DATABASE_SSL_CA_FILE: '/ca.pem' },
      'DATABASE_SSL_CA_FILE',
      /no sslmode=require, verify-ca or verify-full/,
    ],
    [
      { DATABASE_URL: 'postgres://db/app?sslmode=disable', DATABASE_SSL_CA_FILE: '/ca.pem' },
      'DATABASE_SSL_CA_FILE',
      /no sslmode=/,
    ],
    [
      { DATABASE_URL: 'postgres://db/app?sslmode=verify-ca' },
      'DATABASE_SSL_CA_FILE',
      /required with sslmode=verify-ca/,
    ],
    [
      { DATABASE_URL: 'postgres://db/app?sslmode=require', DATABASE_SSL_KEY_FILE: '/k' },
      'DATABASE_SSL_CERT_FILE',
      /together with DATABASE_SSL_KEY_FILE/,
    ],
    [
      { DATABASE_URL: 'postgres://db/app?sslmode=verify-full', DATABASE_SSL_CA_FILE: '/nonexistent/ca.pem' },
      'DATABASE_SSL_CA_FILE',
      /^DATABASE_SSL_CA_FILE cannot be read \(ENOENT/,
    ],
  ])('refuses %j naming %s', (env, variable, message) => {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(message);
  });
});
