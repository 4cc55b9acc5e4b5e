import { ConfigError } from './config-error';

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
