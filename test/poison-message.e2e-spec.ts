import { SimulatedFleet } from '../tools/simulator/fleet';
import { Account, TestSystem } from './helpers/test-system';
import { waitFor } from './helpers/wait-for';

const POISON = { 'poison fail': 'fail', 'poison reject': 'reject', 'poison ignore': 'ignore' } as const;

/**
 * F11 (RELIABILITY.md): messages the phone always fails, refuses, or never acknowledges (an app that
 * crashes on them). The failed and refused ones end at once with their reason; none of them holds up
 * the rest of that phone's queue.
 */
describe('F11: poison messages', () => {
  let system: TestSystem;
  let account: Account;
  let fleet: SimulatedFleet;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status'], {
      DISPATCH_ACK_TIMEOUT_MS: '1000',
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

  it('fail and reject end with their reason, ignore is resent, and the queue keeps flowing behind them', async () => {
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
      'the ordinary messages delivered and fail/reject final',
      async () => {
        const [row] = await system.query<{ ok: number; final: number }>(
          `SELECT count(*) FILTER (WHERE body = 'ok' AND status = 7)::int AS ok,
                  count(*) FILTER (WHERE body IN ('poison fail', 'poison reject') AND status IN (9, 201))::int AS final
             FROM messages`,
        );
        return row.ok === 100 && row.final === 8;
      },
      60_000,
      250,
    );
    const poison = await system.query<{
      body: string;
      status: number;
      status_error: string | null;
      n: number;
    }>(
      `SELECT body, CASE WHEN status IN (1, 3) THEN 0 ELSE status END AS status, status_error, count(*)::int AS n
         FROM messages WHERE body LIKE 'poison%' GROUP BY 1, 2, 3 ORDER BY body`,
    );
    expect(poison).toEqual([
      { body: 'poison fail', status: 9, status_error: 'simulated poison', n: 4 },
      // Still waiting for a phone (0 stands for 1 or 3): only its validity ends it (see the report).
      { body: 'poison ignore', status: 0, status_error: null, n: 4 },
      { body: 'poison reject', status: 201, status_error: 'simulated poison', n: 4 },
    ]);
    // Never acknowledged: resent after each ack timeout, never sent to radio.
    const [{ ids }] = await system.query<{ ids: number[] }>(
      `SELECT array_agg(id::int) AS ids FROM messages WHERE body = 'poison ignore'`,
    );
    await waitFor(
      'the ignored poison resent',
      () => ids.every((id) => fleet.ledger.received.filter((r) => r.id === id).length >= 2),
      15_000,
    );
    expect(ids.filter((id) => fleet.ledger.sends.has(id))).toEqual([]);
    // Nothing overdue yet: they end as expired (202) once their validity is over.
    const check = system.cliResult('check');
    expect(check.status).toBe(0);
  }, 120_000);
});
