import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const ROOT = join(__dirname, '..', '..');

/** The README's first Quick start command ends in `npm run demo`: it must keep working, and Ctrl-C must stop it. */
describe('npm run demo', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start([]);
  });

  const stateDir = mkdtempSync(join(tmpdir(), 'smsfleet-demo-'));

  afterAll(async () => {
    await system?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('migrates, starts the four apps and phones, shows messages reaching status 7, and stops cleanly on Ctrl-C', async () => {
    const demo = spawn(
      process.execPath,
      ['-r', join(ROOT, 'scripts/register-aliases.js'), join(ROOT, 'dist/tools/demo.js')],
      {
        cwd: ROOT,
        env: { ...system.env(), SMSFLEET_STATE_DIR: stateDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));
    try {
      await waitFor('the demo to be ready', () => output.includes('Ctrl-C stops everything'), 90_000, 200);
    } catch (error) {
      demo.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${output}`);
    }
    expect(output).toMatch(/all 7 messages delivered/);
    expect(output).toMatch(/via the SMSGate app phone \d+/);
    // What a real phone needs, printed: the URL shape and the account's registration token.
    expect(output).toContain('https://<this host>/mobile/v1');
    expect(output).toMatch(/Private Token\s+[0-9a-f]{64}/);
    expect(output).toMatch(/token\s+[0-9a-f]{64}/);
    expect(output).toMatch(/phones\s+\d+, \d+, \d+/);
    expect(output).toContain(`http://127.0.0.1:${system.ports.api}/getdata/`);
    // The dashboard's address, and the dashboard there.
    expect(output).toMatch(new RegExp(`dashboard\\s+http://127\\.0\\.0\\.1:${system.ports.api}/ `));
    const dashboard = await fetch(`http://127.0.0.1:${system.ports.api}/`);
    expect([dashboard.status, await dashboard.text()]).toEqual([
      200,
      expect.stringContaining('<div id="root">'),
    ]);
    const [{ delivered }] = await system.query<{ delivered: number }>(
      'SELECT count(*)::int AS delivered FROM messages WHERE status = 7',
    );
    expect(delivered).toBe(7);
    const [{ kind }] = await system.query<{ kind: string }>(
      `SELECT kind FROM devices WHERE id = (SELECT device_id FROM messages WHERE body LIKE '%SMSGate app%')`,
    );
    expect(kind).toBe('smsgate');

    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/stopped\.\s*$/);
    // Every app is gone: nothing answers on their ports any more.
    for (const port of Object.values(system.ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    }
  });
});
