import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedFleet } from '../tools/simulator/fleet';
import { clientTime, reportFigure } from './helpers/figures';
import { Account, TestSystem } from './helpers/test-system';
import { waitFor } from './helpers/wait-for';

const PHONES_PER_TENANT = 50;
const CONCURRENCY = 8;
/** Scheduled messages are due 10–40 s ahead (RELIABILITY's 30–120 s, shortened to keep CI fast). */
const SCHEDULED_AHEAD_MS = [10_000, 40_000];

interface Request {
  method: 'addalotofsms' | 'addsms';
  tenant: number;
  body: Record<string, unknown>;
  messages: number;
  key: string;
  /** The body as first sent (scheduled times fixed then), so that a retry sends the very same request. */
  sent?: string;
}

interface Answered {
  request: Request;
  status: number;
  ids: number[];
}

/**
 * T0 (RELIABILITY.md): 10,000 messages over 100 simulated phones of two tenants — 70 % in bulks, 20 % in
 * multi-recipient addsms, 10 % single; 5 % urgent, 10 % scheduled ahead — every request with an
 * Idempotency-Key; after the run has settled, every invariant holds (`cli check --settled`).
 */
describe('T0 smoke: 10,000 messages over 100 phones, all invariants hold', () => {
  let system: TestSystem;
  const tenants: Account[] = [];
  const fleets: SimulatedFleet[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smsfleet-t0-'));
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status'], {
      // Scheduled messages wait in PostgreSQL and go through the scheduler's outbox sweep.
      SCHEDULE_HORIZON_SECONDS: '5',
      LOG_LEVEL: 'warn',
    });
    for (let t = 0; t < 2; t++) {
      const account = system.createAccount();
      tenants.push(account);
      fleets.push(
        new SimulatedFleet({
          apiUrl: system.apiUrl,
          dispatcherUrl: system.dispatcherUrl,
          email: account.email,
          password: account.password,
          behaviour: { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0.02 },
        }),
      );
    }
    await Promise.all(fleets.map((fleet) => fleet.provision(PHONES_PER_TENANT)));
    await Promise.all(fleets.map((fleet) => fleet.connectAll()));
  }, 120_000);

  afterAll(async () => {
    for (const fleet of fleets) fleet.stop();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function send(request: Request): Promise<Answered> {
    const response = await fetch(`${system.apiUrl}/getdata/${request.method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': request.key },
      body: (request.sent ??= JSON.stringify(
        { token: tenants[request.tenant].token, ...request.body },
        atSend,
      )),
    });
    const body = (await response.json()) as { error: number; sms_id?: number; sms_ids?: number[] };
    if (body.error !== 0) throw new Error(`${request.method} refused: ${JSON.stringify(body)}`);
    return { request, status: response.status, ids: body.sms_ids ?? [body.sms_id as number] };
  }

  /** The request mix; n counts requests, i items, so that the shares are exact. */
  function requests(): Request[] {
    const list: Request[] = [];
    let n = 0;
    let i = 0;
    const device = (tenant: number) => fleets[tenant].phones[i % PHONES_PER_TENANT].deviceId;
    const extras = (k: number) => ({
      urgent: k % 20 === 0 ? 1 : 0,
      ...(k % 10 === 5 ? { timetosend: scheduledAhead(k) } : {}),
    });
    for (let b = 0; b < 14; b++) {
      const tenant = b % 2;
      const smsdata = Array.from({ length: 500 }, () => {
        i++;
        return {
          sendto: `+49157${String(i).padStart(7, '0')}`,
          body: `t0 ${i}`,
          device_id: device(tenant),
          ...extras(i),
        };
      });
      list.push({ method: 'addalotofsms', tenant, body: { smsdata }, messages: 500, key: `t0-${n++}` });
    }
    for (let r = 0; r < 200; r++) {
      const tenant = r % 2;
      i++;
      const sendto = Array.from({ length: 10 }, (_, k) => `+49158${String(i * 10 + k).padStart(7, '0')}`);
      list.push({
        method: 'addsms',
        tenant,
        body: { sendto: sendto.join(','), body: `t0 multi ${r}`, device_id: device(tenant), ...extras(r) },
        messages: 10,
        key: `t0-${n++}`,
      });
    }
    for (let r = 0; r < 1_000; r++) {
      const tenant = r % 2;
      i++;
      list.push({
        method: 'addsms',
        tenant,
        body: {
          sendto: `+49159${String(r).padStart(7, '0')}`,
          body: `t0 single ${r}`,
          device_id: device(tenant),
          ...extras(r),
        },
        messages: 1,
        key: `t0-${n++}`,
      });
    }
    return list;
  }

  async function pool<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < items.length) {
          const index = next++;
          results[index] = await work(items[index]);
        }
      }),
    );
    return results;
  }

  it('accepts every message, delivers or fails each once, and passes cli check --settled', async () => {
    const started = Date.now();
    const all = requests();
    expect(all.reduce((sum, r) => sum + r.messages, 0)).toBe(10_000);
    const answered = await pool(all, send);
    const intakeMs = Date.now() - started;
    expect(new Set(answered.flatMap((a) => a.ids)).size).toBe(10_000);

    // L2: retries with the same key (as after a lost answer) get the same ids and store nothing more.
    const retried = await pool(
      answered.filter((_, index) => index % 50 === 0),
      (a) => send(a.request),
    );
    retried.forEach((again) =>
      expect(again.ids).toEqual(answered.find((a) => a.request === again.request)?.ids),
    );

    const [{ scheduled, urgent }] = await system.query<{ scheduled: number; urgent: number }>(
      `SELECT count(*) FILTER (WHERE time_to_send > created_at + interval '5 seconds')::int AS scheduled,
              count(*) FILTER (WHERE urgent)::int AS urgent FROM messages`,
    );
    expect({ scheduled, urgent }).toEqual({ scheduled: 1_000, urgent: 500 });

    await waitFor(
      'every message final',
      async () =>
        (
          await system.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM messages WHERE status IN (1, 2, 3, 6)`,
          )
        )[0].n === 0,
      150_000,
      1_000,
    );
    const settledMs = Date.now() - started;

    const client = join(dir, 'client.jsonl');
    const phone = join(dir, 'phone.jsonl');
    writeFileSync(client, answered.map((a) => JSON.stringify({ status: a.status, ids: a.ids })).join('\n'));
    writeFileSync(phone, fleets.flatMap((fleet) => fleet.ledger.toJsonLines()).join('\n'));
    const { status, stdout } = system.cliResult(
      'check',
      '--settled',
      '--client-ledger',
      client,
      '--phone-ledger',
      phone,
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Array<{
      id: string;
      holds: boolean;
      counts: Record<string, number>;
    }>;
    const byId = new Map(report.map((r) => [r.id, r]));
    expect(report.filter((r) => !r.holds)).toEqual([]);
    expect(status).toBe(0);
    expect(byId.get('L1')?.counts).toMatchObject({ idsAnswered: 10_000, missing: 0 });
    expect(byId.get('L3')?.counts).toMatchObject({ accepted: 10_000, nonFinal: 0 });
    expect(byId.get('L7')?.counts).toMatchObject({ tenants: 2, devices: 100, accepted: 10_000 });
    expect(byId.get('L4')?.counts).toMatchObject({ sentMoreThanOnce: 0, markedSentNotOnPhone: 0 });
    expect(byId.get('L5')?.counts).toMatchObject({ claimsNotSent: 0 });
    // Per tenant, the database agrees with what the client was answered.
    const perTenant = await system.query<{ email: string; n: number }>(
      `SELECT u.email, count(*)::int AS n FROM messages m JOIN users u ON u.id = m.user_id GROUP BY u.email`,
    );
    for (const [t, account] of tenants.entries()) {
      const answeredToTenant = answered
        .filter((a) => a.request.tenant === t)
        .reduce((s, a) => s + a.ids.length, 0);
      expect(perTenant.find((row) => row.email === account.email)?.n).toBe(answeredToTenant);
    }
    reportFigure('t0-smoke', {
      messages: 10_000,
      phones: 100,
      intakeMs,
      settledMs,
      delivered: byId.get('L7')?.counts.delivered,
      failed: byId.get('L7')?.counts.failed,
      redeliveryPerMille: byId.get('L8')?.counts.redeliveryPerMille,
    });
  }, 300_000);
});

/** A scheduled time is written as an offset and becomes a time when the request is sent. */
function atSend(key: string, value: unknown): unknown {
  return key === 'timetosend' && typeof value === 'number' ? clientTime(Date.now() + value) : value;
}

function scheduledAhead(k: number): number {
  const [min, max] = SCHEDULED_AHEAD_MS;
  return min + ((k * 7919) % (max - min));
}
