import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNSETTLED_WORK_SQL } from '@smsfleet/invariants';
import { writeClientLedger, writePhoneLedger } from '../../tools/ledger-files';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { PhoneBehaviour } from '../../tools/simulator/simulated-phone';
import { SmsGateFleet } from '../../tools/simulator/smsgate/smsgate-fleet';
import { RedisServer, RedisServerOptions } from '../harness/redis-server';
import { RedisSentinelGroup } from '../harness/redis-sentinel';
import { clientTime } from './figures';
import { Account, AppName, ExtraEnv, Infrastructure, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long jobs of final messages may take to leave the queues (a stalled check: lock 30 s + 15 s). */
const QUEUE_DRAIN_MS = 60_000;

export interface LoadRequest {
  method: 'addalotofsms' | 'addsms';
  tenant: number;
  body: Record<string, unknown>;
  messages: number;
  key: string;
  /** The body as first sent (scheduled times fixed then), so that a retry sends the very same request. */
  sent?: string;
}

export interface Answered {
  request: LoadRequest;
  status: number;
  ids: number[];
  /** How many attempts it took (1: answered at once). */
  attempts: number;
}

/** The request mix of a run; counts are requests, shares of urgent/scheduled are over items. */
export interface Mix {
  keyPrefix: string;
  bulks: number;
  bulkSize: number;
  multis: number;
  multiSize: number;
  singles: number;
  /** Every n-th item is urgent (0: none). */
  urgentEvery?: number;
  /** Every n-th item is scheduled `scheduledAheadMs` ahead (0: none). */
  scheduledEvery?: number;
  scheduledAheadMs?: [number, number];
}

/** A fault run's ≈2,000 messages: 1,000 in bulks of 250, 500 to 10 recipients each, 500 single, 5 % urgent. */
export const FAULT_RUN_MIX: Omit<Mix, 'keyPrefix'> = {
  bulks: 4,
  bulkSize: 250,
  multis: 50,
  multiSize: 10,
  singles: 500,
  urgentEvery: 20,
};

export interface LoadRunOptions {
  apps?: AppName[];
  env?: ExtraEnv;
  infrastructure?: Infrastructure;
  tenants?: number;
  phonesPerTenant?: number;
  behaviour?: PhoneBehaviour;
  /** Phones running the SMSGate app (its double) per tenant, beside the socket phones. */
  appsPerTenant?: number;
}

export interface Invariant {
  id: string;
  holds: boolean;
  counts: Record<string, number>;
}

/**
 * A load run over the real system (docs/reliability.md): tenants with simulated phones, a careful client that
 * sends every request with an Idempotency-Key and retries it unchanged after a network error or a 5xx,
 * the client and phone ledgers, and `cli check --settled` over them. Fault suites inject their fault
 * while `drive` runs; T0 is the same run without one.
 */
export class LoadRun {
  readonly tenants: Account[] = [];
  readonly fleets: SimulatedFleet[] = [];
  /** Each tenant's SMSGate app phones (none unless `appsPerTenant`). */
  readonly appFleets: SmsGateFleet[] = [];
  /** Every answer's HTTP status (0: a network error) → how many. */
  readonly statuses = new Map<number, number>();
  /** How long queue residue (jobs of final messages) took to drain after every message was final. */
  queueDrainMs = 0;
  /** When the client last met a 5xx or a network error (recovery = this, after the fault healed). */
  lastFailureAt = 0;
  /** Every answer the client got, as the client ledger records it. */
  private readonly ledger: Array<{ status: number; ids: number[] }> = [];
  /** The API replicas the client spreads its requests over (each attempt to the next one). */
  readonly apiUrls: string[];
  private attempts = 0;

  private constructor(readonly system: TestSystem) {
    this.apiUrls = [system.apiUrl];
  }

  /** The run's own Redis (`onPrivateRedis`), which the test may kill, flush or restart; stopped with the run. */
  redis?: RedisServer;

  /**
   * A run on a Redis of its own, for the faults done to Redis itself (F6). The report timeout is the
   * shortest allowed, so that a report lost with Redis's data is settled within the run (203).
   */
  static async onPrivateRedis(options: RedisServerOptions = {}): Promise<LoadRun & { redis: RedisServer }> {
    const redis = await RedisServer.start(options);
    try {
      const run = await LoadRun.start({
        infrastructure: { redisUrl: redis.url },
        env: { MESSAGE_REPORT_TIMEOUT_SECONDS: '60', LOG_LEVEL: 'warn' },
      });
      run.redis = redis;
      return run as LoadRun & { redis: RedisServer };
    } catch (error) {
      await redis.stop();
      throw error;
    }
  }

  /** The run's Redis behind Sentinel (`onSentinel`): a primary, a replica and three Sentinels. */
  sentinel?: RedisSentinelGroup;

  /**
   * A run whose apps find Redis through three Sentinels (REDIS_SENTINELS), for the failover fault; the
   * report timeout is the shortest allowed, as on a private Redis.
   */
  static async onSentinel(): Promise<LoadRun & { sentinel: RedisSentinelGroup }> {
    const sentinel = await RedisSentinelGroup.start();
    try {
      const run = await LoadRun.start({
        infrastructure: { redisUrl: sentinel.primary.url, redisEnv: sentinel.env },
        env: { MESSAGE_REPORT_TIMEOUT_SECONDS: '60', LOG_LEVEL: 'warn' },
      });
      run.sentinel = sentinel;
      return run as LoadRun & { sentinel: RedisSentinelGroup };
    } catch (error) {
      await sentinel.stop();
      throw error;
    }
  }

  static async start(options: LoadRunOptions = {}): Promise<LoadRun> {
    const system = await TestSystem.start(
      options.apps ?? ['api', 'scheduler', 'dispatcher', 'status'],
      options.env ?? { LOG_LEVEL: 'warn' },
      options.infrastructure,
    );
    const run = new LoadRun(system);
    for (let t = 0; t < (options.tenants ?? 2); t++) {
      const account = system.createAccount();
      run.tenants.push(account);
      run.fleets.push(
        new SimulatedFleet({
          apiUrl: system.apiUrl,
          dispatcherUrl: system.dispatcherUrl,
          email: account.email,
          password: account.password,
          behaviour: options.behaviour ?? { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0.02 },
        }),
      );
    }
    await Promise.all(run.fleets.map((fleet) => fleet.provision(options.phonesPerTenant ?? 15)));
    await Promise.all(run.fleets.map((fleet) => fleet.connectAll()));
    if (options.appsPerTenant) {
      const behaviour = options.behaviour ?? { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0.02 };
      for (const account of run.tenants) {
        const apps = new SmsGateFleet({
          serverUrl: `${system.dispatcherUrl}/mobile/v1`,
          privateToken: system.cli('phone:token', '--email', account.email).trim(),
          behaviour,
          retryBackoffMs: 500,
        });
        run.appFleets.push(apps);
        await apps.start(options.appsPerTenant);
      }
    }
    return run;
  }

  count(status: number): number {
    return this.statuses.get(status) ?? 0;
  }

  /** Messages of the mix, the devices taken round-robin from each tenant's fleet. */
  mix(mix: Mix): LoadRequest[] {
    const list: LoadRequest[] = [];
    let n = 0;
    let i = 0;
    const device = (tenant: number) => {
      const phones = [...this.fleets[tenant].phones, ...(this.appFleets[tenant]?.phones ?? [])];
      return phones[i % phones.length].deviceId;
    };
    const [min, max] = mix.scheduledAheadMs ?? [10_000, 40_000];
    const extras = (k: number) => ({
      urgent: mix.urgentEvery && k % mix.urgentEvery === 0 ? 1 : 0,
      // Written as an offset: it becomes a time when the request is first sent.
      ...(mix.scheduledEvery && k % mix.scheduledEvery === 5 % mix.scheduledEvery
        ? { timetosend: min + ((k * 7919) % (max - min)) }
        : {}),
    });
    const tenants = this.tenants.length;
    const key = () => `${mix.keyPrefix}-${n++}`;
    for (let b = 0; b < mix.bulks; b++) {
      const tenant = b % tenants;
      const smsdata = Array.from({ length: mix.bulkSize }, () => {
        i++;
        return {
          sendto: `+49157${String(i).padStart(7, '0')}`,
          body: `${mix.keyPrefix} ${i}`,
          device_id: device(tenant),
          ...extras(i),
        };
      });
      list.push({ method: 'addalotofsms', tenant, body: { smsdata }, messages: mix.bulkSize, key: key() });
    }
    for (let r = 0; r < mix.multis; r++) {
      const tenant = r % tenants;
      i++;
      const sendto = Array.from(
        { length: mix.multiSize },
        (_, k) => `+49158${String(i * mix.multiSize + k).padStart(7, '0')}`,
      );
      list.push({
        method: 'addsms',
        tenant,
        body: {
          sendto: sendto.join(','),
          body: `${mix.keyPrefix} multi ${r}`,
          device_id: device(tenant),
          ...extras(r),
        },
        messages: mix.multiSize,
        key: key(),
      });
    }
    for (let r = 0; r < mix.singles; r++) {
      const tenant = r % tenants;
      i++;
      list.push({
        method: 'addsms',
        tenant,
        body: {
          sendto: `+49159${String(r).padStart(7, '0')}`,
          body: `${mix.keyPrefix} single ${r}`,
          device_id: device(tenant),
          ...extras(r),
        },
        messages: 1,
        key: key(),
      });
    }
    return list;
  }

  /**
   * Sends a request as a careful client does: with its Idempotency-Key, and again unchanged (same key,
   * same body) after a network error or a 5xx, backing off, and after `rate_limited` (another bulk of its
   * account still running), after its Retry-After, until answered or `giveUpMs` has passed. Any other
   * refusal (error ≠ 0 with a 2xx/4xx) fails the run: the mix is valid.
   */
  async send(request: LoadRequest, giveUpMs = 120_000): Promise<Answered> {
    const deadline = Date.now() + giveUpMs;
    request.sent ??= JSON.stringify({ token: this.tenants[request.tenant].token, ...request.body }, atSend);
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let retryAfterMs = 0;
      let answer:
        { error: number; code?: string; message?: string; sms_id?: number; sms_ids?: number[] } | undefined;
      try {
        const apiUrl = this.apiUrls[this.attempts++ % this.apiUrls.length];
        const response = await fetch(`${apiUrl}/getdata/${request.method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': request.key },
          body: request.sent,
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        retryAfterMs = Number(response.headers.get('retry-after') ?? 0) * 1_000;
        answer = (await response.json()) as typeof answer;
      } catch {
        // Connection refused or cut, or an unreadable answer: the outcome is unknown, so retry.
      }
      this.statuses.set(status, this.count(status) + 1);
      if (answer?.code === 'rate_limited') {
        this.ledger.push({ status, ids: [] });
        if (Date.now() > deadline)
          throw new Error(`${request.key}: still rate limited after ${attempt} attempts`);
        await sleep(Math.max(retryAfterMs, 100));
        continue;
      }
      if (answer && status < 500) {
        if (answer.error !== 0)
          throw new Error(`${request.method} ${request.key} refused (${status}): ${JSON.stringify(answer)}`);
        const ids = answer.sms_ids ?? [answer.sms_id as number];
        this.ledger.push({ status, ids });
        return { request, status, ids, attempts: attempt };
      }
      this.ledger.push({ status, ids: [] });
      this.lastFailureAt = Date.now();
      if (Date.now() > deadline) throw new Error(`${request.key}: no answer after ${attempt} attempts`);
      await sleep(Math.min(1_000, 100 * attempt));
    }
  }

  /**
   * Sends every request, `concurrency` at a time, each client pausing `paceMs` after an answer (a steady
   * stream across a fault); the answers in request order.
   */
  async drive(requests: LoadRequest[], concurrency = 8, paceMs = 0): Promise<Answered[]> {
    const results = new Array<Answered>(requests.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests.length) {
          const index = next++;
          results[index] = await this.send(requests[index]);
          if (paceMs > 0) await sleep(paceMs);
        }
      }),
    );
    return results;
  }

  /**
   * Waits until no message is left non-final and no due newsletter is left unexpanded (its messages do
   * not exist yet: without it, a run looks settled a moment before they appear).
   */
  async settle(timeoutMs = 150_000): Promise<void> {
    await waitFor(
      'every message final, every due newsletter expanded',
      async () => (await this.system.query<{ n: number }>(UNSETTLED_WORK_SQL))[0].n === 0,
      timeoutMs,
      500,
    );
  }

  /** Writes both ledgers and runs `cli check --settled` over them, as an operator would. */
  check(): SettledCheck {
    return checkSettled(
      this.system,
      this.ledger,
      [...this.fleets, ...this.appFleets].map((fleet) => fleet.ledger),
    );
  }

  /**
   * After the fault: waits until settled, then every invariant holds, nothing went out twice, no 500, and
   * per tenant the client-submitted rows are exactly the ids answered (no ghost rows: L2).
   */
  async verify(answered: Answered[], settleTimeoutMs?: number): Promise<Map<string, Invariant>> {
    await this.settle(settleTimeoutMs);
    let result = this.check();
    // "Settled" includes draining (docs/reliability.md): jobs of messages already final may still be on their
    // way out of the queues (e.g. back from a stalled check). Wait for that, bounded, and say how long.
    const drainStarted = Date.now();
    while (
      result.failing.length === 1 &&
      result.failing[0].id === 'L6' &&
      Date.now() - drainStarted < QUEUE_DRAIN_MS
    ) {
      await sleep(5_000);
      result = this.check();
    }
    this.queueDrainMs = Date.now() - drainStarted;
    const { status, invariants, failing } = result;
    expect(failing).toEqual([]);
    expect(status).toBe(0);
    expect(invariants.get('L4')?.counts).toMatchObject({ sentMoreThanOnce: 0, markedSentNotOnPhone: 0 });
    for (const { answered: toTenant, stored } of await this.perTenant(answered))
      expect(stored).toBe(toTenant);
    expect([...this.statuses.keys()].filter((status) => status >= 500 && status !== 503)).toEqual([]);
    return invariants;
  }

  /** The figures every fault run reports, beside its own. */
  figures(invariants: Map<string, Invariant>): Record<string, number | undefined> {
    return {
      messages: invariants.get('L3')?.counts.accepted,
      answers503: this.count(503),
      networkErrors: this.count(0),
      redeliveryPerMille: invariants.get('L8')?.counts.redeliveryPerMille,
      queueDrainMs: this.queueDrainMs,
    };
  }

  /** Messages answered to each tenant against the rows its requests stored (L1 per tenant, no ghosts). */
  async perTenant(answered: Answered[]): Promise<Array<{ answered: number; stored: number }>> {
    const rows = await this.system.query<{ email: string; n: number }>(
      `SELECT u.email, count(*)::int AS n FROM messages m JOIN users u ON u.id = m.user_id
        WHERE m.newsletter_id IS NULL GROUP BY u.email`,
    );
    return this.tenants.map((account, t) => ({
      answered: new Set(answered.filter((a) => a.request.tenant === t).flatMap((a) => a.ids)).size,
      stored: rows.find((row) => row.email === account.email)?.n ?? 0,
    }));
  }

  async stop(): Promise<void> {
    for (const fleet of [...this.fleets, ...this.appFleets]) fleet.stop();
    await this.system.stop();
    await this.redis?.stop();
    await this.sentinel?.stop();
  }
}

/** A scheduled time is written as an offset and becomes a time when the request is sent. */
function atSend(key: string, value: unknown): unknown {
  return key === 'timetosend' && typeof value === 'number' ? clientTime(Date.now() + value) : value;
}

export interface SettledCheck {
  status: number | null;
  invariants: Map<string, Invariant>;
  failing: Invariant[];
}

/**
 * Writes a client ledger (every answer: status and ids) and the phones' ledgers as files and runs
 * `cli check --settled` over them; for suites that drive their own clients and phones too.
 */
export function checkSettled(
  system: TestSystem,
  client: Array<{ status: number; ids: number[] }>,
  phones: PhoneLedger[],
): SettledCheck {
  const dir = mkdtempSync(join(tmpdir(), 'smsfleet-ledgers-'));
  try {
    const clientFile = join(dir, 'client.jsonl');
    const phoneFile = join(dir, 'phone.jsonl');
    writeClientLedger(clientFile, client);
    writePhoneLedger(phoneFile, phones);
    const { status, stdout, stderr } = system.cliResult(
      'check',
      '--settled',
      '--client-ledger',
      clientFile,
      '--phone-ledger',
      phoneFile,
    );
    const last = stdout.trim().split('\n').at(-1);
    if (!last?.startsWith('[')) throw new Error(`cli check printed no report: ${stderr}`);
    const report = JSON.parse(last) as Invariant[];
    return {
      status,
      invariants: new Map(report.map((r) => [r.id, r])),
      failing: report.filter((r) => !r.holds),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
