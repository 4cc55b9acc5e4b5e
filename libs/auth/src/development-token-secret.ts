import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a machine without TOKEN_SECRET keeps its generated one (beside the demo's uploads). */
export const DEVELOPMENT_SECRET_FILE = join('.smsfleet', 'token-secret');

/**
 * The development token secret of this working directory, generated on first use: `npm run demo` and
 * `npm test` need no configuration, and the secret still stays out of the database. Created by a link
 * from a finished file, so that processes starting together all read the same complete secret.
 */
export function developmentTokenSecret(file = DEVELOPMENT_SECRET_FILE): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(join(file, '..'), { recursive: true });
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  return readFileSync(file, 'utf8').trim();
}
