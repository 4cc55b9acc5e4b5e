import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { DeviceQueue } from '@smsfleet/contracts';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { writePhoneLedger } from '../../tools/ledger-files';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const POISON = { 'poison fail': 'fail', 'poison reject': 'reject', 'poison ignore': 'ignore' } as const;
const MAX_UNACKED_SENDS = 3;

/**
 * F11 (docs/reliability.md): messages the phone always fails, refuses, or never acknowledges (an app that
 * crashes on them). The failed and refused ones end at once with their reason, the ignored ones as 204
 * after DISPATCH_MAX_UNACKED_SENDS sends; none of them holds up the rest of that phone's queue.
 */
describe('F11: poison messages', () => {
  let system: TestSystem;
  let account: Account;
  let fleet: SimulatedFleet;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status'], {
      DISPATCH_ACK_TIMEOUT_MS: '1000',
      DISPATCH_MAX_UNACKED_SENDS: String(MAX_UNACKED_SENDS),
    });
    account = system.createAccount();
    fleet = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: {
        sendDelayMs: 5,
        deliveryDelayMs: 5,
        failureShare: 0,
        poison: (payload) => POISON[payload.body as keyof typeof POISON],
      },
    });
    await fleet.provision(1);
    await fleet.connectAll();
  });

  afterAll(async () => {
    fleet?.stop();
    await system?.stop();
  });

  it('fail, reject and ignore end with their reason, and the queue keeps flowing behind them', async () => {
    const deviceId = fleet.phones[0].deviceId;
    // The poison first, several times each (more than the window's worth in all), then ordinary messages.
    const bodies = [
      ...Object.keys(POISON).flatMap((body) => Array<string>(4).fill(body)),
      ...Array<string>(100).fill('ok'),
    ];
    const smsdata = bodies.map((body, i) => ({
      sendto: `+49157${String(i).padStart(7, '0')}`,
      body,
      device_id: deviceId,
    }));
    const response = await fetch(`${system.apiUrl}/getdata/addalotofsms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: account.token, smsdata }),
    });
    expect(await response.json()).toMatchObject({ error: 0, count: bodies.length });

    await waitFor(
      'every message final',
      async () => {
        const [row] = await system.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM messages WHERE status IN (1, 2, 3, 6)`,
        );
        return row.n === 0;
      },
      60_000,
      250,
    );
    const outcome = await system.query<{
      body: string;
      status: number;
      status_error: string | null;
      n: number;
    }>(`SELECT body, status, status_error, count(*)::int AS n FROM messages GROUP BY 1, 2, 3 ORDER BY body`);
    expect(outcome).toEqual([
      { body: 'ok', status: 7, status_error: null, n: 100 },
      { body: 'poison fail', status: 9, status_error: 'simulated poison', n: 4 },
      {
        body: 'poison ignore',
        status: 204,
        status_error: `sent to the phone ${MAX_UNACKED_SENDS} times, never acknowledged`,
        n: 4,
      },
      { body: 'poison reject', status: 201, status_error: 'simulated poison', n: 4 },
    ]);
    // Never acknowledged: sent exactly the cap's number of times, never to radio, and its job is gone.
    const [{ ids }] = await system.query<{ ids: number[] }>(
      `SELECT array_agg(id::int) AS ids FROM messages WHERE body = 'poison ignore'`,
    );
    expect(ids.map((id) => fleet.ledger.received.filter((r) => r.id === id).length)).toEqual(
      ids.map(() => MAX_UNACKED_SENDS),
    );
    expect(ids.filter((id) => fleet.ledger.sends.has(id))).toEqual([]);
    const queue = new Queue(DeviceQueue.name(deviceId), {
      connection: system.redis(),
      prefix: system.redisPrefix,
    });
    // Finished jobs are kept a minute (ADR 0408), so "removed" means: none is left to be sent.
    const states = await Promise.all(ids.map((id) => queue.getJobState(DeviceQueue.jobId(id))));
    await queue.close();
    expect(states.filter((state) => state !== 'completed' && state !== 'unknown')).toEqual([]);
    // Settled: every invariant holds, L5 (204 claims "not sent") against the phone ledger included.
    const dir = mkdtempSync(join(tmpdir(), 'smsfleet-poison-'));
    try {
      const ledger = join(dir, 'phone.jsonl');
      writePhoneLedger(ledger, [fleet.ledger]);
      const check = system.cliResult('check', '--settled', '--phone-ledger', ledger);
      expect(check.stdout).toMatch(/^L5 ok .* failed=12 .*claimsNotSent=0/m);
      expect(check.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
