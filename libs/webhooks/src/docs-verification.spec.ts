import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signatureHeader } from './signature';

/**
 * The verification code of docs/webhooks.md is what users copy: it is run here, as written, against our
 * signatures — valid (with a rotation's two v1), and refused for a wrong secret, a changed body and a
 * timestamp outside the replay window.
 */
const page = readFileSync(join(__dirname, '../../../docs/webhooks.md'), 'utf8');
const block = (language: string) => {
  const found = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(page);
  if (!found) throw new Error(`docs/webhooks.md has no ${language} block`);
  return found[1];
};

const secret = 'whsec_docs-check-0123456789abcdefghijklmnopqrstu';
const oldSecret = 'whsec_old-one';
const body = '{"id":"e1","type":"message.incoming","data":{"body":"Grüße 👋"}}';
const now = () => Math.floor(Date.now() / 1000);

const cases = () => [
  { name: 'valid', header: signatureHeader(body, [oldSecret, secret], now()), body, secret, expected: true },
  { name: 'wrong secret', header: signatureHeader(body, [oldSecret], now()), body, secret, expected: false },
  {
    name: 'changed body',
    header: signatureHeader(body, [secret], now()),
    body: `${body} `,
    secret,
    expected: false,
  },
  { name: 'replayed', header: signatureHeader(body, [secret], now() - 301), body, secret, expected: false },
  { name: 'no header', header: '', body, secret, expected: false },
];

function run(command: string, args: string[], header: string, rawBody: string, key: string): string {
  const result = spawnSync(command, args, {
    input: Buffer.from(rawBody),
    env: { ...process.env, HEADER: header, SECRET: key },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe('verification code in docs/webhooks.md', () => {
  it('Node: accepts our signatures, refuses forgeries and replays', () => {
    const harness = `${block('js')}
      const raw = require('node:fs').readFileSync(0);
      console.log(verifySmsfleetSignature(process.env.HEADER, raw, process.env.SECRET));`;
    for (const c of cases())
      expect([c.name, run('node', ['-e', harness], c.header, c.body, c.secret)]).toEqual([
        c.name,
        String(c.expected),
      ]);
  });

  // In CI (which installs both) they always run: a missing interpreter there is a failure, not a skip.
  const python = spawnSync('python3', ['--version']).status === 0;
  if (!python) console.warn('python3 not found: the Python snippet of docs/webhooks.md is not run');
  (python || process.env.CI ? it : it.skip)(
    'Python: accepts our signatures, refuses forgeries and replays',
    () => {
      const harness = `${block('python')}
import os, sys
print(verify_smsfleet_signature(os.environ["HEADER"], sys.stdin.buffer.read(), os.environ["SECRET"]))`;
      for (const c of cases())
        expect([c.name, run('python3', ['-c', harness], c.header, c.body, c.secret)]).toEqual([
          c.name,
          c.expected ? 'True' : 'False',
        ]);
    },
  );

  const php = spawnSync('php', ['--version']).status === 0;
  if (!php) console.warn('php not found: the PHP snippet of docs/webhooks.md is not run');
  (php || process.env.CI ? it : it.skip)('PHP: accepts our signatures, refuses forgeries and replays', () => {
    const fn = block('php').split('$rawBody = file_get_contents')[0].replace('<?php', '');
    const harness = `${fn}
echo smsfleet_verify_signature(getenv('HEADER'), file_get_contents('php://stdin'), getenv('SECRET')) ? 'true' : 'false';`;
    for (const c of cases())
      expect([c.name, run('php', ['-r', harness], c.header, c.body, c.secret)]).toEqual([
        c.name,
        String(c.expected),
      ]);
  });
});
