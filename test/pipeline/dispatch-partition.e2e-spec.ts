import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { handshake } from '../helpers/device-socket';
import { checkSettled } from '../helpers/load-run';
import { TcpProxy } from '../helpers/tcp-proxy';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** F9 (docs/reliability.md): a dispatcher node cut off from Redis for longer than a lease lives. */
describe('a dispatcher cut off from Redis', () => {
  let system: TestSystem;
  let account: Account;
  let proxy: TcpProxy;

  beforeAll(async () => {
    system = await TestSystem.start();
    const redis = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    proxy = await TcpProxy.start(redis.hostname, Number(redis.port || 6379));
    await system.startApp('dispatcher', 'dispatcher-b', { REDIS_URL: `redis://127.0.0.1:${proxy.port}/0` });
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
    await proxy?.stop();
  });

  /** Phones of the account, pointed at node B (the one behind the proxy). */
  function fleetOnNodeB(): SimulatedFleet {
    return new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.url('dispatcher-b'),
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0 },
    });
  }

  async function send(deviceId: number, count: number): Promise<number[]> {
    const numbers = Array.from({ length: count }, (_, n) => `+49157${String(n).padStart(7, '0')}`);
    const answer = await getdata(
      system.apiUrl,
      'addsms',
      { token: account.token, sendto: numbers.join(','), body: 'partition', device_id: deviceId },
      'form',
    );
    return answer.body.sms_ids as number[];
  }

  it('lets its phones go once its leases cannot have been renewed; another node serves them; nothing twice', async () => {
    const phones = fleetOnNodeB();
    const [device] = await phones.provision(1);
    const phone = phones.phones[0];
    await phones.connectAll();
    const leaseKey = `${system.redisPrefix}:lease:${device.deviceId}`;
    try {
      const before = await send(device.deviceId, 5);
      await waitFor('served by node B', () => phones.ledger.received.length === 5);
      expect(await system.redis().get(leaseKey)).toMatch(/^dispatcher-b-/);

      const cutAt = Date.now();
      await proxy.cut();
      const during = await send(device.deviceId, 5);
      await waitFor('node B lets the phone go', () => phone.serverDisconnects > 0, 25_000, 100);
      const releasedAfterMs = Date.now() - cutAt;
      // The load balancer sends it to a node that can serve it.
      await phone.moveTo(system.dispatcherUrl);
      await waitFor('served by node A', () => phones.ledger.received.length === 10, 15_000);
      expect(await system.redis().get(leaseKey)).toMatch(/^dispatcher-/);
      expect(await system.redis().get(leaseKey)).not.toMatch(/^dispatcher-b-/);

      await proxy.heal();
      // Node B reconnects; nothing it had queued while cut off may steal the phone back.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const after = await send(device.deviceId, 5);
      await waitFor('still served by node A', () => phones.ledger.received.length >= 15, 15_000);
      expect(await system.redis().get(leaseKey)).not.toMatch(/^dispatcher-b-/);
      expect(phone.connected).toBe(true);
      const firstReceipts = phones.ledger.received.filter((entry) => !entry.repeat).map((entry) => entry.id);
      expect(new Set(firstReceipts)).toEqual(new Set([...before, ...during, ...after]));
      expect(phones.ledger.duplicateSends).toBe(0);
      await waitFor('all delivered', async () => {
        const [{ n }] = await system.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 7',
          [[...before, ...during, ...after]],
        );
        return n === 15;
      });
      const answered = [{ status: 200, ids: [...before, ...during, ...after] }];
      expect(checkSettled(system, answered, [phones.ledger]).failing).toEqual([]);
      reportFigure('dispatcher cut off from Redis', {
        phoneReleasedAfterMs: releasedAfterMs,
        servedAgainAfterCutMs: Math.max(...phones.ledger.received.slice(5, 10).map((e) => e.at)) - cutAt,
        repeats: phones.ledger.repeats,
      });
    } finally {
      phones.stop();
    }
  });

  it('refuses phones in the handshake with "unavailable" (retry) while it cannot take leases, and takes them once healed', async () => {
    const phones = fleetOnNodeB();
    const [device] = await phones.provision(1);
    const auth = { deviceId: device.deviceId, secret: device.secret };
    try {
      await proxy.cut();
      // Accepting and then ending the session would read as "a newer session took over", and the phone
      // would stay away for good.
      await waitFor('node B refuses with "unavailable"', async () =>
        (await handshake(system.url('dispatcher-b'), auth)) === 'unavailable' ? true : undefined,
      );
      await proxy.heal();
      await waitFor(
        'node B takes the phone again',
        async () => ((await handshake(system.url('dispatcher-b'), auth)) === 'connected' ? true : undefined),
        20_000,
        250,
      );
    } finally {
      phones.stop();
    }
  });
});
