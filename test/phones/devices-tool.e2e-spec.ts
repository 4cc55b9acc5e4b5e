import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { phoneToken } from '../helpers/smsgate-phones';
import { TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const ROOT = join(__dirname, '..', '..');

/**
 * `npm run devices` as a new user meets it: phones remembered in `.smsfleet/` from another database are
 * unknown to this server; the tool registers them again and says so, for socket and SMSGate phones alike.
 */
describe('npm run devices', () => {
  let system: TestSystem;
  const dir = mkdtempSync(join(tmpdir(), 'smsfleet-devices-'));

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher', 'status']);
  });

  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers again the stored phones this server refuses, says so, and keeps the new ones', async () => {
    const account = system.createAccount();
    const state = join(dir, 'devices.json');
    writeFileSync(state, JSON.stringify([{ deviceId: 999_999, secret: 'from-another-database' }]));
    writeFileSync(
      join(dir, 'devices-apps.json'),
      JSON.stringify([{ id: '999998', token: 'from-another-database', login: 'x' }]),
    );
    const tool = spawn(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register-aliases.js'),
        join(ROOT, 'dist/tools/devices.js'),
        ...['--count', '1', '--apps', '1', '--email', account.email, '--password', account.password],
        ...['--phone-token', phoneToken(system, account), '--state', state],
        ...['--api', system.apiUrl, '--dispatcher', system.dispatcherUrl],
      ],
      { cwd: ROOT, env: system.env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    tool.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    tool.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => tool.once('exit', resolve));
    try {
      await waitFor('both phones connected', () => /connected 1\/1 {2}app streams 1\/1/.test(output), 30_000);
    } finally {
      tool.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output).toMatch(
      /phone 999999 is unknown to this server \(a new database\?\): registered it again as phone \d+/,
    );
    expect(output).toContain('1 SMSGate phone(s) unknown to this server (a new database?): registered again');
    expect(output).not.toContain('devices: unauthorized');
    const [socketPhone] = JSON.parse(readFileSync(state, 'utf8')) as Array<{ deviceId: number }>;
    const [appPhone] = JSON.parse(readFileSync(join(dir, 'devices-apps.json'), 'utf8')) as Array<{
      id: string;
    }>;
    const kinds = await system.query<{ id: number; kind: string }>(
      `SELECT id, kind FROM devices WHERE id = ANY($1::int[]) ORDER BY id`,
      [[socketPhone.deviceId, Number(appPhone.id)]],
    );
    expect(kinds.map((row) => row.kind).sort()).toEqual(['smsgate', 'socket']);
  });
});
