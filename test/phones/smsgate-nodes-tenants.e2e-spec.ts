import { createHmac, randomBytes } from 'node:crypto';
import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { SmsGateApp } from '../../tools/simulator/smsgate/smsgate-app';
import { getdata } from '../helpers/api-client';
import { RoundRobinProxy } from '../helpers/round-robin-proxy';
import { phoneToken, QUICK_APP, startApps } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** The lock values of a queue's active jobs, read in one script (no job can move between the reads). */
const ACTIVE_LOCKS = `
local locks = {}
for i, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  locks[i] = redis.call('GET', ARGV[1] .. id .. ':lock') or ''
end
return locks`;

const sign = (key: string, body: string, timestamp: string) =>
  createHmac('sha256', key)
    .update(body + timestamp)
    .digest('hex');

describe('SMSGate phones across dispatcher nodes, and between tenants', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let proxy: RoundRobinProxy;
  const apps: SmsGateApp[] = [];

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status']);
    await system.startApp('dispatcher', 'dispatcher-b');
    proxy = await RoundRobinProxy.start([system.ports.dispatcher, system.ports['dispatcher-b']]);
    alice = system.createAccount();
    bob = system.createAccount();
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) app.stop();
    await proxy?.stop();
    await system?.stop();
  });

  it('a phone whose pulls alternate between two nodes is served by one consumer at a time, each message once', async () => {
    // No event stream: a phone pulling every 300 ms (the app's ping), through a round-robin balancer.
    const ledger = new PhoneLedger();
    const app = new SmsGateApp({
      serverUrl: `${proxy.url}/mobile/v1`,
      privateToken: phoneToken(system, alice),
      behaviour: QUICK_APP,
      ledger,
      sse: false,
      pingIntervalMs: 300,
      retryBackoffMs: 200,
    });
    apps.push(app);
    await app.start();
    const device = app.deviceId;
    const sent = await getdata(system.apiUrl, 'addsms', {
      token: alice.token,
      sendto: Array.from({ length: 60 }, (_, n) => `+4915700${String(n).padStart(5, '0')}`).join(','),
      body: 'alternating',
      device_id: device,
    });
    const ids = sent.body.sms_ids as number[];

    // Sample which nodes hold jobs of this phone's queue (the lock of each active job names its session).
    const redis = system.redis();
    const nodesSeen = new Set<string>();
    let overlaps = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // Atomically: the active jobs and the session named in each one's lock at one instant.
        const locks = (await redis.eval(
          ACTIVE_LOCKS,
          1,
          `${system.redisPrefix}:device-${device}:active`,
          `${system.redisPrefix}:device-${device}:`,
        )) as string[];
        const nodes = new Set(locks.filter((lock) => lock !== '').map((lock) => lock.split(':')[0]));
        for (const node of nodes) nodesSeen.add(node);
        if (nodes.size > 1) overlaps++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await waitFor(
      'all 60 delivered',
      async () =>
        (
          await system.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::bigint[]) AND status = 7`,
            [ids],
          )
        )[0].n === ids.length,
      60_000,
      200,
    );
    sampling = false;
    await sampler;
    expect(overlaps).toBe(0);
    // Both nodes consumed the queue, in turn.
    expect(nodesSeen).toEqual(new Set([`dispatcher-${system.id}`, `dispatcher-b-${system.id}`]));
    expect(ledger.duplicateSends).toBe(0);
    expect(new Set(proxy.served)).toEqual(new Set([0, 1]));
  }, 120_000);

  it("a device token of one account reads and changes nothing of another's", async () => {
    const { apps: alicePhones } = await startApps(system, alice, 1, { sse: false });
    const { apps: bobPhones } = await startApps(system, bob, 1, { sse: false });
    apps.push(...alicePhones, ...bobPhones);
    const [a, b] = [alicePhones[0], bobPhones[0]];
    // Bob's message waits for his phone, which is stopped.
    b.stop();
    const bobs = await getdata(system.apiUrl, 'addsms', {
      token: bob.token,
      sendto: '+4915799999999',
      body: 'for bob only',
      device_id: b.deviceId,
    });
    const bobMessage = bobs.body.sms_id as number;
    const snapshot = () =>
      system.query(
        `SELECT d.sim_info, d.push_token, d.title, m.status, m.status_error
           FROM devices d LEFT JOIN messages m ON m.device_id = d.id WHERE d.user_id = (SELECT id FROM users WHERE email = $1)
          ORDER BY m.id`,
        [bob.email],
      );
    const before = await snapshot();
    const aliceAuth = {
      authorization: `Bearer ${a.registration?.token}`,
      'content-type': 'application/json',
    };
    const url = (path: string) => `${system.dispatcherUrl}/mobile/v1${path}`;

    const pulled = (await (await fetch(url('/message'), { headers: aliceAuth })).json()) as Array<{
      id: string;
    }>;
    expect(pulled.map((m) => m.id)).not.toContain(String(bobMessage));
    const report = await fetch(url('/message'), {
      method: 'PATCH',
      headers: aliceAuth,
      body: JSON.stringify([
        {
          id: String(bobMessage),
          state: 'Failed',
          recipients: [{ phoneNumber: '+4915799999999', state: 'Failed', error: 'TTL expired' }],
          states: { Failed: new Date().toISOString() },
        },
      ]),
    });
    expect(report.status).toBe(204);
    const patch = await fetch(url('/device'), {
      method: 'PATCH',
      headers: aliceAuth,
      body: JSON.stringify({ id: String(b.deviceId), pushToken: 'stolen', simCards: [] }),
    });
    expect(patch.status).toBe(403);
    expect(await patch.json()).toMatchObject({ code: 'forbidden' });
    // An incoming SMS for Bob's device signed with Alice's key.
    const settings = (await (await fetch(url('/settings'), { headers: aliceAuth })).json()) as {
      webhooks: { signing_key: string };
    };
    const body = JSON.stringify({
      id: randomBytes(4).toString('hex'),
      webhookId: 'smsfleet-sms-received',
      event: 'sms:received',
      deviceId: String(b.deviceId),
      payload: { sender: '+491', message: 'planted', simNumber: 1, receivedAt: new Date().toISOString() },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const planted = await fetch(url('/webhooks/incoming'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-timestamp': timestamp,
        'x-signature': sign(settings.webhooks.signing_key, body, timestamp),
      },
      body,
    });
    expect(planted.status).toBe(403);
    // Give the status pipeline time to have written anything it was (wrongly) given.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await snapshot()).toEqual(before);
    expect(await system.query(`SELECT 1 FROM messages WHERE body = 'planted'`)).toEqual([]);
  });
});
