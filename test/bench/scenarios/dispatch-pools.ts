import { loadavg } from 'node:os';
import { BenchAccount, BenchSystem } from '../../harness/bench-system';
import { SimulatedFleet } from '../../../tools/simulator/fleet';
import { postJson, v1Call } from '../../helpers/api-client';
import { createPool } from '../../helpers/pools';
import { connectFleet, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { round } from '../stats';

const PER_PHONE = 20;
const POOL_SIZE = 100;
/** Items per addalotofsms, and requests in flight: as intake-bulk sends. */
const BATCH = 1_000;
const IN_FLIGHT = 4;

/** Pool and pinned runs alternate this many times each; the best of each counts. */
const ROUNDS = 2;

/** One timed run: every message accepted through addalotofsms, then at a phone. */
interface RunFigures {
  rate: number;
  seconds: number;
  /** From the first request to the last answer. */
  intakeSeconds: number;
  /** Messages per phone in this run, fewest and most. */
  fewest: number;
  most: number;
}

/**
 * ADR 2221 §9: the dispatch scenario's phones in pools of 100, the same messages sent with `pool_id` and
 * with `device_id`, each timed end to end (the first addalotofsms sent → the last message at a phone), on
 * the same system, phones and machine. The runs alternate, pool first, and the best of each counts: the
 * first run on a cold system is slower, and the machine is shared (one run alone would judge the noise).
 */
export const dispatchPools: Scenario = {
  name: 'dispatch-pools',
  description: '1,000 phones in 10 pools of 100: addalotofsms with pool_id vs with device_id, intake → phone',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('dispatch-pools');
    const phones = scaled(1_000, context, 2);
    const poolCount = Math.max(1, Math.round(phones / POOL_SIZE));
    const total = phones * PER_PHONE;
    const loadBefore = loadavg()[0];
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api', 'dispatcher', 'status', 'scheduler']);
      const account = system.createAccount();
      const credentials = await system.registerPhones(account, phones, (n) =>
        progress.update(`registered ${n}/${phones} phones`),
      );
      const deviceIds = credentials.map((c) => c.deviceId);
      const pools: number[] = [];
      for (let p = 0; p < poolCount; p++) {
        const members = deviceIds.filter((_, index) => index % poolCount === p);
        pools.push(await createPool(system.apiUrl, account, `bench pool ${p + 1}`, members));
      }
      const fleet = await connectFleet(
        system,
        account,
        credentials,
        { sendDelayMs: 0, deliveryDelayMs: 0, failureShare: 0, reports: false },
        (n) => progress.update(`connected ${n}/${phones}`),
      );
      await waitUntil(
        'every pool member online',
        async () => (await onlineMembers(system, account)) >= phones,
        60_000,
        250,
      );
      progress.update(`${phones} phones in ${poolCount} pools online`, true);

      const run = (label: string, target: (n: number) => Record<string, number>, prefix: string) =>
        timedRun(system, account, fleet, total, target, prefix, (text) =>
          progress.update(`${label}: ${text}`),
        );
      const pooledRuns: RunFigures[] = [];
      const pinnedRuns: RunFigures[] = [];
      for (let pass = 0; pass < ROUNDS; pass++) {
        pooledRuns.push(await run('pool_id', (n) => ({ pool_id: pools[n % poolCount] }), `+4915${pass}1`));
        pinnedRuns.push(
          await run('device_id', (n) => ({ device_id: deviceIds[n % phones] }), `+4915${pass}2`),
        );
        progress.update(
          `round ${pass + 1}: pool_id ${Math.round(pooledRuns[pass].rate)} msg/s, device_id ${Math.round(pinnedRuns[pass].rate)} msg/s`,
          true,
        );
      }
      const best = (runs: RunFigures[]) => runs.reduce((a, b) => (b.rate > a.rate ? b : a));
      const pooled = best(pooledRuns);
      const pinned = best(pinnedRuns);
      fleet.stop();
      const ratio = pooled.rate / pinned.rate;
      progress.done(`pool_id ${Math.round(pooled.rate)} msg/s vs device_id ${Math.round(pinned.rate)} msg/s`);
      return {
        scenario: this.name,
        description: this.description,
        baseline: {
          label: 'the same messages with device_id, same run',
          value: round(pinned.rate),
          unit: 'msg/s',
        },
        system: { label: 'addalotofsms with pool_id → phone', value: round(pooled.rate), unit: 'msg/s' },
        ratio: round(ratio, 3),
        target: '≥ 80 % of the pinned run',
        met: context.scale >= 1 ? ratio >= 0.8 : null,
        details: {
          phones,
          pools: poolCount,
          'messages per run': total,
          'pool runs msg/s': pooledRuns.map((r) => Math.round(r.rate)).join(', '),
          'pinned runs msg/s': pinnedRuns.map((r) => Math.round(r.rate)).join(', '),
          'best pool run: seconds, of which intake': `${round(pooled.seconds, 2)}, ${round(pooled.intakeSeconds, 2)}`,
          'best pinned run: seconds, of which intake': `${round(pinned.seconds, 2)}, ${round(pinned.intakeSeconds, 2)}`,
          'best pool run: messages per phone, fewest–most': `${pooled.fewest}–${pooled.most}`,
          'best pinned run: messages per phone, fewest–most': `${pinned.fewest}–${pinned.most}`,
          'repeats seen by phones': fleet.ledger.repeats,
          'load average (1 min) before, after': `${round(loadBefore, 2)}, ${round(loadavg()[0], 2)}`,
        },
      };
    } finally {
      await system.stop();
    }
  },
};

async function onlineMembers(system: BenchSystem, account: BenchAccount): Promise<number> {
  const answer = await v1Call(system.apiUrl, account, 'GET', '/v1/pools');
  return (answer.body.pools as Array<{ online: number }>).reduce((sum, pool) => sum + pool.online, 0);
}

/** Sends `total` messages, BATCH per request, IN_FLIGHT at once; waits until every one is at a phone. */
async function timedRun(
  system: BenchSystem,
  account: BenchAccount,
  fleet: SimulatedFleet,
  total: number,
  target: (n: number) => Record<string, number>,
  prefix: string,
  onProgress: (text: string) => void,
): Promise<RunFigures> {
  const ids = new Set<number>();
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const first = next;
      next = Math.min(total, next + BATCH);
      const smsdata = Array.from({ length: next - first }, (_, k) => ({
        sendto: `${prefix}${String(first + k).padStart(7, '0')}`,
        body: 'benchmark',
        ...target(first + k),
      }));
      const { body: answer } = await postJson(system.apiUrl, 'addalotofsms', {
        token: account.token,
        smsdata,
      });
      if (answer.error !== 0) throw new Error(`addalotofsms refused: ${String(answer.message)}`);
      for (const id of answer.sms_ids as number[]) ids.add(id);
      onProgress(`accepted ${ids.size}/${total}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const intakeSeconds = (Date.now() - started) / 1000;
  const arrived = () => fleet.ledger.received.filter((entry) => !entry.repeat && ids.has(entry.id));
  await waitUntil(
    'every message at a phone',
    () => {
      const count = arrived().length;
      onProgress(`at phones ${count}/${total}`);
      return count >= total;
    },
    600_000,
    250,
  );
  const entries = arrived();
  const seconds = (Math.max(...entries.map((entry) => entry.at)) - started) / 1000;
  const perPhone = new Map<number, number>();
  for (const entry of entries) perPhone.set(entry.deviceId, (perPhone.get(entry.deviceId) ?? 0) + 1);
  const counts = [...perPhone.values()];
  return {
    rate: total / Math.max(seconds, 0.001),
    seconds,
    intakeSeconds,
    fewest: counts.length < fleet.phones.length ? 0 : Math.min(...counts),
    most: Math.max(...counts),
  };
}
