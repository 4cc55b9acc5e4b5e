import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentTokenSecret } from './development-token-secret';

describe('developmentTokenSecret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smsfleet-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a secret once, readable by its owner only, and answers the same one after', () => {
    const file = join(dir, 'sub', 'token-secret');
    const first = developmentTokenSecret(file);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(developmentTokenSecret(file)).toBe(first);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
  });
});
