import { cpus } from 'node:os';
import { runBaseline } from '../baselines/run-child';
import { BenchSystem } from '../../harness/bench-system';
import {
  contentionBetween,
  cpuMsBetween,
  cpuUsersBetween,
  machineCpuMsBetween,
  machineSchedStat,
} from '../machine';
import { connectFleet, fillQueues, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { percentile, round } from '../stats';

/** Short runs shrink the wait, not the shape: the batch is still accepted beyond the horizon and promoted. */
const horizonFor = (context: BenchContext) => (context.scale >= 0.5 ? 20 : 3);
const leadFor = (context: BenchContext) => horizonFor(context) + (context.scale >= 0.5 ? 15 : 5);

function sqlTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Calls per command so far, from INFO commandstats (the whole Redis server: the bench has it to itself). */
async function redisCommandCalls(system: BenchSystem): Promise<Map<string, number>> {
  const text = await system.redis().info('commandstats');
  return new Map([...text.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

/** The commands Redis ran per due message between two samples, biggest first. */
function callsPerMessage(before: Map<string, number>, after: Map<string, number>, messages: number): string {
  const perMessage = [...after].map(
    ([name, calls]) => [name, (calls - (before.get(name) ?? 0)) / messages] as const,
  );
  const total = perMessage.reduce((sum, [, n]) => sum + n, 0);
  return `${round(total, 1)}: ${perMessage
    .filter(([, n]) => n >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${round(n, 2)}`)
    .join(', ')}`;
}

async function jobsInRedis(system: BenchSystem): Promise<number> {
  let cursor = '0';
  let jobs = 0;
  do {
    const [next, keys] = await system
      .redis()
      .scan(cursor, 'MATCH', `${system.redisPrefix}:device-*:m*`, 'COUNT', 5_000);
    jobs += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return jobs;
}

/** A batch due at one second, with a long tail of far-future messages that must stay out of Redis. */
export const schedule: Scenario = {
  name: 'schedule',
  description: '10,000 messages due at the same second, 1,000,000 scheduled later',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('schedule');
    const due = scaled(10_000, context, 50);
    const later = scaled(1_000_000, context, 1_000);
    const phones = Math.min(100, Math.max(2, Math.round(due / 100)));
    const system = await BenchSystem.create({ SCHEDULE_HORIZON_SECONDS: String(horizonFor(context)) });
    try {
      // What the building block alone does with the same batch on this machine now: a floor, not a target.
      progress.update(`floor: BullMQ alone, ${due} delayed jobs on ${phones} queues due at one second`, true);
      const floor = await runBaseline<{ firstMs: number; p50Ms: number; p99Ms: number; maxMs: number }>(
        'bullmq-delayed',
        {
          ...system.env(),
          QUEUES: String(phones),
          PER_QUEUE: String(Math.ceil(due / phones)),
        },
      );
      await system.startApps(['api', 'dispatcher', 'status', 'scheduler']);
      const account = system.createAccount();
      const credentials = await system.registerPhones(account, phones);
      const deviceIds = credentials.map((c) => c.deviceId);
      const fleet = await connectFleet(system, account, credentials, {
        sendDelayMs: 20,
        deliveryDelayMs: 20,
        failureShare: 0,
      });
      const memoryBefore = Number(/used_memory:(\d+)/.exec(await system.redis().info('memory'))?.[1]);

      // First the long tail, straight into PostgreSQL, as the API stores it (the API path is measured by intake-*).
      progress.update(`inserting ${later} messages scheduled a day later`, true);
      const [{ id: userId }] = (await system.db().query<{ id: number }>('SELECT id FROM users')).rows;
      for (let offset = 0; offset < later; offset += 100_000) {
        await system.db().query(
          `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until)
           SELECT $1, ($2::int[])[1 + (n % array_length($2::int[], 1))], '+4915700000000', '+4915700000000', 'later', 0,
                  now() + interval '1 day', now() + interval '2 days'
             FROM generate_series(1, $3) AS n`,
          [userId, deviceIds, Math.min(100_000, later - offset)],
        );
      }
      const dueAt = new Date(Math.ceil((Date.now() + leadFor(context) * 1_000) / 1_000) * 1_000);
      const ids = await fillQueues(
        system,
        account,
        deviceIds,
        Math.ceil(due / phones),
        { timetosend: sqlTime(dueAt) },
        (n) => progress.update(`due batch accepted: ${n}/${due}`),
      );
      // Just before the due second: the batch has been promoted, the far-future tail must not have been.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt.getTime() - 1_000 - Date.now())));
      const jobsBeforeDue = await jobsInRedis(system);
      progress.update(
        `waiting for ${sqlTime(dueAt)} UTC (${Math.round((dueAt.getTime() - Date.now()) / 1000)} s)`,
        true,
      );
      const wanted = new Set(ids);
      const machineBefore = machineSchedStat();
      const callsBefore = await redisCommandCalls(system);
      await waitUntil(
        'the due batch at the phones',
        () =>
          fleet.ledger.received.filter((entry) => wanted.has(entry.id) && !entry.repeat).length >=
          wanted.size,
        300_000,
        200,
      );
      const machineAfter = machineSchedStat();
      const callsAfter = await redisCommandCalls(system);
      const contention = contentionBetween(machineBefore, machineAfter);
      const pids = system.processIds();
      const machineCpuMs = machineCpuMsBetween(machineBefore, machineAfter);
      const dispatcherCpuMs = cpuMsBetween(machineBefore, machineAfter, pids.dispatcher);
      const benchCpuMs = cpuMsBetween(machineBefore, machineAfter, pids['bench (phones)']);
      const cores = cpus().length;
      const lateness = fleet.ledger.received
        .filter((entry) => wanted.has(entry.id) && !entry.repeat)
        .map((entry) => entry.at - dueAt.getTime());
      const early = lateness.filter((ms) => ms < 0).length;
      const memoryAfter = Number(/used_memory:(\d+)/.exec(await system.redis().info('memory'))?.[1]);
      const farFutureInRedis = await system
        .db()
        .query<{ n: number }>(
          `SELECT count(*)::int AS n FROM messages WHERE time_to_send > now() + interval '1 hour' AND enqueued_at IS NOT NULL`,
        );
      fleet.stop();
      const p99 = percentile(lateness, 99);
      const first = Math.min(...lateness);
      const p50 = percentile(lateness, 50);
      const last = Math.max(...lateness);
      progress.done(`lateness p99 ${p99} ms; far-future messages enqueued: ${farFutureInRedis.rows[0].n}`);
      return {
        scenario: this.name,
        description: this.description,
        system: { label: 'lateness of the due batch, p99', value: p99, unit: 'ms' },
        target: 'lateness p99 < 1 s; Redis memory for the far-future ones ≈ 0',
        met: context.scale >= 1 ? p99 < 1_000 && farFutureInRedis.rows[0].n === 0 && early === 0 : null,
        details: {
          'due messages': ids.length,
          'far-future messages': later,
          // The first arrival shows the promotion's punctuality; the spread after it, the drain's pace.
          'lateness min ms': first,
          'lateness p50 ms': p50,
          'lateness max ms': last,
          // The spread after the first message is what the drain costs; the first one's lateness, the wake-up.
          'system: after its first message, p50 / p99 / max ms': `${p50 - first} / ${p99 - first} / ${last - first}`,
          'floor, same run: BullMQ alone, no-op workers: after its first job, p50 / p99 / max ms': `${floor.p50Ms} / ${floor.p99Ms} / ${floor.maxMs}`,
          'floor: its first job taken after the due second, ms (its Worker wakes late for delayed jobs)':
            floor.firstMs,
          'machine from 1 s before the due second to the last arrival: CPUs busy / threads waiting for a CPU (average)': `${round(contention.busyShare * 100)} % / ${round(contention.waitingThreads, 2)}`,
          'Redis calls per due message meanwhile (all apps)': callsPerMessage(
            callsBefore,
            callsAfter,
            ids.length,
          ),
          // Far steadier than the lateness on a shared machine: what each message costs the dispatcher.
          'dispatcher CPU ms per due message': round(dispatcherCpuMs / ids.length, 3),
          // The whole machine's work for the batch (phones, Redis, PostgreSQL, every app): spread perfectly
          // over every core it still takes this long, so no lateness can beat it here. Without the phones
          // (the bench process): what a deployment whose phones are real pays on its own cores.
          'CPU ms per due message, every process on the machine': round(machineCpuMs / ids.length, 3),
          [`the drain's CPU floor on these ${cores} cores, ms: every process / without the phones / without the phones and the dispatcher`]:
            [machineCpuMs, machineCpuMs - benchCpuMs, machineCpuMs - benchCpuMs - dispatcherCpuMs]
              .map((ms) => Math.round(ms / cores))
              .join(' / '),
          'CPU used meanwhile, % of one core': cpuUsersBetween(machineBefore, machineAfter, pids),
          'sent before their time': early,
          'jobs in Redis before the due second': jobsBeforeDue,
          'far-future messages enqueued': farFutureInRedis.rows[0].n,
          'Redis used_memory growth MB': round((memoryAfter - memoryBefore) / 2 ** 20, 1),
          phones,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
