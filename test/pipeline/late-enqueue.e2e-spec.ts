import { SimulatedFleet } from '../../tools/simulator/fleet';
import { DeviceQueue } from '@smsfleet/contracts';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { TcpProxy } from '../helpers/tcp-proxy';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/**
 * Issue 6 (L6): the API answers before its enqueue lands; the outbox sweep enqueues the message, the phone
 * gets it, the job completes. The API's add, held in flight until then, must not bring the job back.
 */
describe('a late enqueue of a message already final', () => {
  let system: TestSystem;
  let account: Account;
  let proxy: TcpProxy;

  beforeAll(async () => {
    system = await TestSystem.start(['scheduler', 'dispatcher', 'status']);
    const redis = new URL(system.redisUrl);
    proxy = await TcpProxy.start(redis.hostname, Number(redis.port || 6379));
    redis.port = String(proxy.port);
    // Only the API talks to Redis through the proxy: its writes can be held while the rest goes on.
    await system.startApp('api', 'api', { REDIS_URL: redis.toString() });
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
    await proxy?.stop();
  });

  async function status(id: number): Promise<number> {
    const [row] = await system.query<{ status: number }>('SELECT status FROM messages WHERE id = $1', [id]);
    return row.status;
  }

  async function send(deviceId: number, body: string): Promise<number> {
    const added = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982212',
      body,
      device_id: deviceId,
      sim: 0,
    });
    expect(added.body).toMatchObject({ error: 0 });
    return added.body.sms_id as number;
  }

  it('leaves no job and sends nothing again when the API add lands after the message is final', async () => {
    const phones = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 20, deliveryDelayMs: 20, failureShare: 0 },
    });
    const [phone] = await phones.provision(1);
    await phones.connectAll();
    try {
      proxy.hold();
      // Accepted (200); the API's add stays in flight, so the outbox sweep enqueues it.
      const late = await send(phone.deviceId, 'held in flight');
      await waitFor('the sweep-enqueued message delivered', async () => (await status(late)) === 7, 30_000);
      proxy.release();

      // Same connection, in order: once this one is delivered, the held add has landed before it.
      const next = await send(phone.deviceId, 'after the release');
      await waitFor('the next message delivered', async () => (await status(next)) === 7, 30_000);

      const queue = `${system.redisPrefix}:${DeviceQueue.name(phone.deviceId)}`;
      const jobId = DeviceQueue.jobId(late);
      const redis = system.redis();
      const [waiting, active, prioritized, delayed] = await Promise.all([
        redis.lrange(`${queue}:wait`, 0, -1),
        redis.lrange(`${queue}:active`, 0, -1),
        redis.zrange(`${queue}:prioritized`, 0, -1),
        redis.zrange(`${queue}:delayed`, 0, -1),
      ]);
      expect([...waiting, ...active, ...prioritized, ...delayed]).not.toContain(jobId);
      expect(phones.ledger.received.map((entry) => entry.id)).toEqual([late, next]);
      // What the retention costs per message (ADR 0408).
      reportFigure('retained finished job', { bytes: await redis.memory('USAGE', `${queue}:${jobId}`) });
    } finally {
      proxy.release();
      phones.stop();
    }
  }, 90_000);
});
