import { DeviceJobName } from '@smsfleet/contracts';
import { registerPhone } from '../../tools/simulator/fleet';
import { Account, TestSystem } from '../harness/test-system';

const ADMIN_PASSWORD = 'dashboard-secret-1';

describe('queue dashboard (bull-board) at /admin/queues', () => {
  let system: TestSystem;
  let account: Account;

  beforeAll(async () => {
    system = await TestSystem.start(['api'], { ADMIN_USER: 'ops', ADMIN_PASSWORD });
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
  });

  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('refuses anyone without the operator credentials, an API token included', async () => {
    for (const headers of <Array<Record<string, string>>>[
      {},
      { authorization: basic('ops', 'wrong-password') },
      { authorization: basic('admin', ADMIN_PASSWORD) },
      { authorization: `Bearer ${account.token}` },
    ]) {
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        const response = await fetch(`${system.apiUrl}${path}`, { headers });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
        expect(await response.json()).toEqual({
          error: 1,
          message: 'authentication required',
          code: 'invalid_credentials',
        });
      }
    }
  });

  it('shows every device queue to the operator', async () => {
    const device = await registerPhone(system.apiUrl, account.email, account.password, 'dashboard phone');
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // the queue list is re-read after 2 s
    const headers = { authorization: basic('ops', ADMIN_PASSWORD) };
    const page = await fetch(`${system.apiUrl}/admin/queues`, { headers });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const api = await fetch(`${system.apiUrl}/admin/queues/api/queues`, { headers });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: Array<{ name: string }> };
    expect(queues.map((queue) => queue.name)).toEqual([`device-${device.deviceId}`]);
  });

  it('is read-only unless ADMIN_QUEUES_WRITABLE is set: no job can be added, promoted or cleaned', async () => {
    const device = await registerPhone(system.apiUrl, account.email, account.password, 'read-only phone');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const headers = { authorization: basic('ops', ADMIN_PASSWORD), 'content-type': 'application/json' };
    const queue = `/admin/queues/api/queues/device-${device.deviceId}`;
    for (const [method, path, body] of [
      ['POST', `${queue}/add`, { name: DeviceJobName.sms, data: { sendto: '+4915700000001', body: 'x' } }],
      ['PUT', `${queue}/promote`, {}],
      ['PUT', `${queue}/clean/completed`, {}],
      ['PUT', `${queue}/pause`, {}],
    ] as const) {
      const response = await fetch(`${system.apiUrl}${path}`, {
        method,
        headers,
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(405);
    }
    const counts = await fetch(`${system.apiUrl}/admin/queues/api/queues`, { headers });
    const { queues } = (await counts.json()) as {
      queues: Array<{ name: string; readOnlyMode: boolean; counts: Record<string, number> }>;
    };
    const shown = queues.find((q) => q.name === `device-${device.deviceId}`);
    expect(shown?.readOnlyMode).toBe(true);
    expect(Object.values(shown?.counts ?? {}).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('sends security headers on the API, /docs and /admin/queues (once each), and the UIs load under them', async () => {
    const headers = { authorization: basic('ops', ADMIN_PASSWORD) };
    for (const path of [
      '/getdata/getalldevices',
      '/docs',
      '/docs-json',
      '/admin/queues',
      '/admin/queues/api/queues',
    ]) {
      const response = await fetch(`${system.apiUrl}${path}`, { headers });
      expect([path, response.status]).toEqual([path, 200]);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain(','); // one policy, not two headers merged
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      await response.arrayBuffer();
    }
    // Both UIs run only scripts of this origin (no inline script the policy would block).
    for (const path of ['/docs', '/admin/queues']) {
      const html = await (await fetch(`${system.apiUrl}${path}`, { headers })).text();
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, code] of scripts)
        if (!/type="application\/json"/.test(attributes)) {
          expect(attributes).toMatch(/src=/);
          expect(attributes).not.toMatch(/src=["']?https?:/);
          expect(code.trim()).toBe('');
        }
    }
  });

  it('leaves the public API as it was', async () => {
    const response = await fetch(`${system.apiUrl}/getdata/gettoken?email=${account.email}&pass=x`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ error: 1, code: 'invalid_credentials' });
  });
});
