import { ConfigError } from './config-error';
import { assertReadableFile, EnvReader } from './env-reader';

/** The certificate files one TLS connection is configured with (paths; absent: not used). */
export interface CertificateFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** What they hold, as node's TLS options take it: only the files that were named. */
export interface CertificateContents {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * Reads the named files when a process opens its first connection, so a missing or unreadable file stops
 * it at start-up with the variable that named it (`variablePrefix` + `CA_FILE`, `CERT_FILE`, `KEY_FILE`).
 */
export function readCertificateFiles(
  files: CertificateFiles,
  variablePrefix: string,
  readFile: (path: string) => Buffer,
): CertificateContents {
  const read = (suffix: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (error) {
      throw new ConfigError(`${variablePrefix}${suffix}`, `cannot be read (${(error as Error).message})`);
    }
  };
  const ca = read('CA_FILE', files.caFile);
  const cert = read('CERT_FILE', files.certFile);
  const key = read('KEY_FILE', files.keyFile);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** The files named by `variablePrefix` + `CA_FILE`, `CERT_FILE` and `KEY_FILE` (unset: undefined). */
export function readCertificateFileSettings(read: EnvReader, variablePrefix: string): CertificateFiles {
  return {
    caFile: read.optionalString(`${variablePrefix}CA_FILE`),
    certFile: read.optionalString(`${variablePrefix}CERT_FILE`),
    keyFile: read.optionalString(`${variablePrefix}KEY_FILE`),
  };
}

/** A client certificate is its certificate and its key: one without the other is refused by name. */
export function assertCertificatePair(files: CertificateFiles, variablePrefix: string): void {
  if ((files.certFile === undefined) === (files.keyFile === undefined)) return;
  const [missing, given] =
    files.certFile === undefined ? ['CERT_FILE', 'KEY_FILE'] : ['KEY_FILE', 'CERT_FILE'];
  throw new ConfigError(`${variablePrefix}${missing}`, `must be set together with ${variablePrefix}${given}`);
}

/** Every named file must be readable at start-up: a missing one stops the app by its variable's name. */
export function assertReadableCertificateFiles(files: CertificateFiles, variablePrefix: string): void {
  assertReadableFile(`${variablePrefix}CA_FILE`, files.caFile);
  assertReadableFile(`${variablePrefix}CERT_FILE`, files.certFile);
  assertReadableFile(`${variablePrefix}KEY_FILE`, files.keyFile);
}
