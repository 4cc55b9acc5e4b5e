import { ChildProcess } from 'node:child_process';
import { SimulatedFleet } from '../tools/simulator/fleet';
import { getdata } from './helpers/api-client';
import { Account, AppName, TestSystem } from './helpers/test-system';
import { waitFor } from './helpers/wait-for';

/** Kubernetes' default grace period: an app must be gone well before it would be killed. */
const GRACE_MS = 30_000;

/** SIGTERM, then the time until the process exited and how (it re-raises the signal when done). */
async function terminate(child: ChildProcess): Promise<{ ms: number; signal: NodeJS.Signals | null }> {
  const started = Date.now();
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_, signal) => resolve(signal)),
  );
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const signal = await Promise.race([
    exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running ${GRACE_MS} ms after SIGTERM`)), GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  return { ms: Date.now() - started, signal };
}

describe('SIGTERM on each app during a run loses nothing (RELIABILITY.md F12)', () => {
  let system: TestSystem;
  let account: Account;
  let fleet: SimulatedFleet;

  beforeAll(async () => {
    system = await TestSystem.start(undefined, { READINESS_DRAIN_MS: '300' });
    account = system.createAccount();
    fleet = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 20, deliveryDelayMs: 20, failureShare: 0 },
    });
    await fleet.provision(3);
    await fleet.connectAll();
  });

  afterAll(async () => {
    fleet?.stop();
    await system?.stop();
  });

  it('every accepted message is delivered once, and every app exits by itself within the grace period', async () => {
    const accepted: number[] = [];
    let sending = true;
    // A steady stream of requests while the apps restart one by one; refused requests are not "accepted".
    const traffic = (async () => {
      for (let n = 0; sending; n++) {
        const phone = fleet.phones[n % fleet.phones.length];
        try {
          const answer = await getdata(system.apiUrl, 'addsms', {
            token: account.token,
            sendto: Array.from(
              { length: 10 },
              (_, i) => `+491570${String(n * 10 + i).padStart(7, '0')}`,
            ).join(','),
            body: `graceful ${n}`,
            device_id: phone.deviceId,
          });
          if (answer.body.error === 0)
            accepted.push(
              ...((answer.body.sms_ids as number[] | undefined) ?? [answer.body.sms_id as number]),
            );
        } catch {
          // The API is restarting: this request was never accepted.
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const exits: Array<{ app: AppName; ms: number; signal: NodeJS.Signals | null }> = [];
    for (const app of ['status', 'dispatcher', 'scheduler', 'api'] as AppName[]) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const child = system.processes.get(app);
      if (!child) throw new Error(`${app} not running`);
      system.processes.delete(app);
      exits.push({ app, ...(await terminate(child)) });
      await system.startApp(app);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    sending = false;
    await traffic;

    for (const exit of exits) {
      expect(exit).toMatchObject({ signal: 'SIGTERM' });
      expect(exit.ms).toBeLessThan(GRACE_MS);
    }
    expect(accepted.length).toBeGreaterThan(100);
    await waitFor(
      'every accepted message delivered',
      async () => {
        const [row] = await system.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::bigint[]) AND status = 7',
          [accepted],
        );
        return row.n === accepted.length;
      },
      60_000,
      500,
    );
    expect(fleet.ledger.duplicateSends).toBe(0);
  });
});
