import { ConfigError } from '@smsfleet/config';
import { postgresConnection } from './postgres-connection';

const files: Record<string, string> = { '/ca.pem': 'CA', '/client.pem': 'CERT', '/client.key': 'KEY' };
const readFile = (path: string) => {
  if (!(path in files)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return Buffer.from(files[path]);
};

describe('postgresConnection', () => {
  it('leaves a URL without sslmode as it was: no TLS', () => {
    expect(postgresConnection('postgres://u:p@db:5432/app', readFile)).toEqual({
      connectionString: 'postgres://u:p@db:5432/app',
    });
    expect(postgresConnection('postgres://db/app?sslmode=disable&application_name=x', readFile)).toEqual({
      connectionString: 'postgres://db/app?application_name=x',
      ssl: false,
    });
  });

  it("gives libpq's meaning to each sslmode, with sslmode taken out of the URL pg parses", () => {
    const at = (mode: string, tls = {}) =>
      postgresConnection({ url: `postgres://u@db.internal/app?sslmode=${mode}`, tls }, readFile);
    const require = at('require');
    expect(require).toEqual({
      connectionString: 'postgres://u@db.internal/app',
      ssl: { rejectUnauthorized: false, checkServerIdentity: expect.any(Function) },
    });
    // require with a CA checks the chain, like verify-ca (libpq does the same with a root certificate).
    expect(at('require', { caFile: '/ca.pem' }).ssl).toEqual({
      ca: Buffer.from('CA'),
      rejectUnauthorized: true,
      checkServerIdentity: expect.any(Function),
    });
    const verifyCa = at('verify-ca', { caFile: '/ca.pem' }).ssl;
    expect(verifyCa).toMatchObject({ ca: Buffer.from('CA'), rejectUnauthorized: true });
    expect(verifyCa && verifyCa.checkServerIdentity?.()).toBeUndefined();
    // verify-full: node's own host name check stays (no checkServerIdentity override).
    expect(
      at('verify-full', { caFile: '/ca.pem', certFile: '/client.pem', keyFile: '/client.key' }).ssl,
    ).toEqual({
      ca: Buffer.from('CA'),
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
      rejectUnauthorized: true,
    });
    expect(at('verify-full').ssl).toEqual({ rejectUnauthorized: true });
  });

  it('names the variable of a file it cannot read, and refuses an unknown sslmode', () => {
    const attempt = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('accepted');
    };
    const unreadable = attempt(() =>
      postgresConnection(
        { url: 'postgres://db/app?sslmode=verify-full', tls: { caFile: '/nope.pem' } },
        readFile,
      ),
    );
    expect(unreadable).toBeInstanceOf(ConfigError);
    expect(unreadable.message).toMatch(/^DATABASE_SSL_CA_FILE cannot be read \(ENOENT/);
    expect(attempt(() => postgresConnection('postgres://db/app?sslmode=allow', readFile)).variable).toBe(
      'DATABASE_URL',
    );
  });
});
