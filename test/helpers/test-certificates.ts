import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a throwaway PKI, in a temporary directory of its own. */
export interface TestCertificates {
  dir: string;
  /** The CA that signed the server's certificate. */
  caFile: string;
  /** A CA that signed nothing here: a client trusting only it refuses the server. */
  otherCaFile: string;
  /** The server's certificate, named "localhost" only (not 127.0.0.1): a wrong name is testable too. */
  serverCertFile: string;
  serverKeyFile: string;
  remove(): void;
}

/** A CA, another CA and a server certificate for "localhost" signed by the first, made with openssl. */
export function makeTestCertificates(prefix: string): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  for (const ca of ['ca', 'other-ca'])
    openssl(
      'req',
      '-x509',
      ...key,
      '-days',
      '1',
      '-subj',
      `/CN=smsfleet test ${ca}`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
    );
  openssl('req', ...key, '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
  return {
    dir,
    caFile: file('ca.pem'),
    otherCaFile: file('other-ca.pem'),
    serverCertFile: file('server.pem'),
    serverKeyFile: file('server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
