import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { AppHttp } from '../../tools/simulator/smsgate/app-http';
import { SmsGateApp } from '../../tools/simulator/smsgate/smsgate-app';
import { getdata } from '../helpers/api-client';
import { CaddyProxy } from '../helpers/caddy';
import { phoneToken, QUICK_APP } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/**
 * The way a real phone reaches smsfleet: HTTPS through Caddy (deploy/caddy/Caddyfile, `tls internal`),
 * the app trusting Caddy's root as a user-installed CA. Registration, the event stream and a message to
 * 7, and an incoming SMS through the webhook URL the server hands out behind the proxy.
 */
describe('SMSGate app phones over HTTPS through Caddy', () => {
  let system: TestSystem;
  let caddy: CaddyProxy;
  let account: Account;
  let app: SmsGateApp;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status']);
    caddy = await CaddyProxy.start({ api: system.ports.api, dispatcher: system.ports.dispatcher });
    account = system.createAccount();
  }, 120_000);

  afterAll(async () => {
    app?.stop();
    await caddy?.stop();
    await system?.stop();
  });

  it('refuses a client that does not trust the LAN certificate', async () => {
    const untrusting = new AppHttp({ userAgent: 'me.capcom.smsgateway/1.68.0' });
    await expect(untrusting.call('GET', `${caddy.baseUrl}/mobile/v1/device`, {})).rejects.toThrow(
      /certificate/i,
    );
  });

  it('registers, holds its event stream through the proxy, and takes a message to 7', async () => {
    app = new SmsGateApp({
      serverUrl: `${caddy.baseUrl}/mobile/v1`,
      privateToken: phoneToken(system, account),
      behaviour: QUICK_APP,
      ledger: new PhoneLedger(),
      ca: caddy.rootCertificate,
      retryBackoffMs: 200,
    });
    await app.start();
    await waitFor('event stream open', () => app.streamOpen, 10_000);
    const sent = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982212',
      body: 'over https',
      device_id: app.deviceId,
    });
    const id = sent.body.sms_id as number;
    await waitFor(
      'message at 7',
      async () =>
        (await system.query<{ status: number }>(`SELECT status FROM messages WHERE id = $1`, [id]))[0]
          ?.status === 7,
      20_000,
    );
    // The stream carried the wake-up: the app pulled because of MessageEnqueued, not a timer.
    expect(app.seen.events).toContain('MessageEnqueued');
  });

  it('receives an incoming SMS at the https webhook URL it gave the phone', async () => {
    const http = new AppHttp({ ca: caddy.rootCertificate, userAgent: 'me.capcom.smsgateway/1.68.0' });
    const hooks = JSON.parse(
      await http.expect('GET', `${caddy.baseUrl}/mobile/v1/webhooks`, {
        authorization: `Bearer ${app.registration?.token}`,
      }),
    ) as Array<{ url: string }>;
    expect(hooks.map((hook) => hook.url)).toEqual([`${caddy.baseUrl}/mobile/v1/webhooks/incoming`]);
    await app.updateWebhooks();
    expect(await app.receiveSms('+4917012345678', 'hello over https')).toEqual([true]);
    const stored = await system.query(
      `SELECT 1 FROM messages WHERE status = 5 AND body = 'hello over https'`,
    );
    expect(stored).toHaveLength(1);
  });
});
