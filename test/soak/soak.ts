import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InvariantResult } from '@smsfleet/invariants';
import { BenchSystem } from '../harness/bench-system';
import { describeMachine } from '../bench/machine';
import { recordedResultPath } from '../bench/report';
import { connectFleet, waitUntil } from '../bench/phones';
import { Progress } from '../bench/progress';
import { round } from '../bench/stats';
import { numberOption, parseArgs, UsageError } from '../../tools/cli-args';
import { writeClientLedger, writePhoneLedger } from '../../tools/ledger-files';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { CpuMeter } from './cpu';
import { RandomDrops } from './drops';
import { FaultTimeline } from './faults';
import { SoakLoad } from './load';
import { FaultOutcome, printResult, SoakResult, writeResultJson } from './report';
import { PostgresCluster } from '../harness/postgres-cluster';
import { RedisServer } from '../harness/redis-server';

const ROOT = join(__dirname, '..', '..', '..');
const TENANTS = 2;
const AFTER_LAST_FAULT_MS = 5_000;
/** A repair that hangs must not keep the load going for ever. */
const MAX_OVERRUN_MS = 60_000;
/** The longest wait for the queues to drain after settling (as the fault suites, test/helpers/load-run). */
const QUEUE_DRAIN_MS = 60_000;

const USAGE = `usage: npm run test:soak -- [--rate N] [--duration S] [--phones N] [--drop-share X] [--out FILE] [--record]
  --rate N          messages per second offered, open loop (default 2000)
  --duration S      seconds of load (default 300); one fault of each kind is spread over it
  --phones N        simulated phones, split over ${TENANTS} tenants (default 1000)
  --drop-share X    share of phones that lose their network at random throughout (default 0.2)
  --settle-timeout S  how long to wait for every message to be final after the load (default 900)
  --no-catch-up     drop what falls over 1 s behind while saturated, instead of offering it once answers come
  --out FILE        JSON result (default bench-results/soak-<date>.json, not tracked)
  --record          also keep the result in docs/results/soak/, the tracked history`;

/** Counts in PostgreSQL, polled once a second: the progress line and the delivery recovery times. */
interface Sample {
  at: number;
  total: number;
  delivered: number;
  pending: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { command, options } = parseArgs(argv);
  if (command !== undefined) throw new UsageError(`unexpected argument "${command}"`);
  const rate = numberOption(options, 'rate', 2_000, 1, 100_000);
  const durationSec = numberOption(options, 'duration', 300, 5, 3_600);
  const phoneCount = numberOption(options, 'phones', 1_000, TENANTS, 10_000);
  const dropShare = numberOption(options, 'drop-share', 0.2, 0, 1);
  const settleTimeoutSec = numberOption(options, 'settle-timeout', 900, 10, 7_200);
  const date = new Date().toISOString();
  const out = options.get('out') ?? join(ROOT, 'bench-results', `soak-${date.replace(/[:.]/g, '-')}.json`);
  const progress = new Progress('soak');

  // Private servers: the soak restarts them, and must never touch the machine's shared ones.
  const redis = await RedisServer.start({ appendOnly: true });
  const postgres = await PostgresCluster.start();
  let system: BenchSystem | undefined;
  const fleets: SimulatedFleet[] = [];
  const ledgerDir = mkdtempSync(join(tmpdir(), 'smsfleet-soak-'));
  let cleaning: Promise<void> | undefined;
  let passed = false;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const fleet of fleets) fleet.stop();
      // A failed soak's app logs are what explains it: they stay (a passing one's too with SMSFLEET_KEEP_LOGS).
      await system
        ?.stop({ keepLogs: !passed })
        .catch((error: unknown) => console.error(`clean-up: ${String(error)}`));
      if (system && (!passed || process.env.SMSFLEET_KEEP_LOGS)) console.log(`app logs: ${system.logDir}`);
      await redis.stop();
      await postgres.stop();
      rmSync(ledgerDir, { recursive: true, force: true });
    })());
  // Interrupted (Ctrl-C): stop the apps and the private servers too, never leave them behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  try {
    const machine = await describeMachine(postgres.url, redis.url);
    system = await BenchSystem.create(
      // A report lost with Redis must not hold a message non-final for the default day.
      { MESSAGE_REPORT_TIMEOUT_SECONDS: '120' },
      { databaseServerUrl: postgres.url, redisUrl: redis.url },
    );
    await system.startApps(['api', 'scheduler', 'dispatcher', 'status']);
    const tenants = [];
    for (let t = 0; t < TENANTS; t++) {
      const account = system.createAccount();
      const share = Math.floor(phoneCount / TENANTS) + (t < phoneCount % TENANTS ? 1 : 0);
      const credentials = await system.registerPhones(account, share, (n) =>
        progress.update(`tenant ${t + 1}: registered ${n}/${share} phones`),
      );
      const fleet = await connectFleet(
        system,
        account,
        credentials,
        // Always-online phones: back a few seconds after the server ended their session.
        {
          sendDelayMs: 50,
          deliveryDelayMs: 200,
          failureShare: 0.01,
          reconnectAfterServerDisconnectMs: 2_000,
        },
        (n) => progress.update(`tenant ${t + 1}: connected ${n}/${share} phones`),
      );
      fleets.push(fleet);
      tenants.push({ token: account.token, deviceIds: credentials.map((c) => c.deviceId) });
    }
    const phones = fleets.flatMap((fleet) => fleet.phones);
    const load = new SoakLoad(
      system.apiUrl,
      tenants,
      rate,
      system.id,
      undefined,
      !options.has('no-catch-up'),
    );
    const drops = new RandomDrops(phones, dropShare);
    const startedAt = Date.now();
    const faults = new FaultTimeline(system, redis, postgres, startedAt);
    const cpu = new CpuMeter(() => ({
      'soak (load + phones)': [process.pid],
      api: [system?.pidOf('api')],
      scheduler: [system?.pidOf('scheduler')],
      dispatcher: [system?.pidOf('dispatcher')],
      status: [system?.pidOf('status')],
      redis: [redis.pid],
      postgres: [postmasterPid(postgres)],
    }));

    const samples: Sample[] = [];
    let loadEnded = false;
    const monitor = setInterval(() => {
      system
        ?.db()
        .query<Omit<Sample, 'at'>>(
          `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 7)::int AS delivered,
                  count(*) FILTER (WHERE status IN (1, 2, 3, 6))::int AS pending FROM messages`,
        )
        .then(({ rows: [row] }) => {
          samples.push({ at: Date.now(), ...row });
          const elapsed = Math.round((Date.now() - startedAt) / 1_000);
          progress.update(
            `${elapsed} s ${loadEnded ? '(load over) ' : ''}accepted ${load.acceptedMessages} ` +
              `(${Math.round(load.acceptedMessages / Math.max(1, elapsed))} msg/s), delivered ${row.delivered}, ` +
              `backlog ${row.pending}, requests in flight ${load.pending}, phones online ` +
              `${phones.filter((p) => p.connected).length}/${phones.length}, fault: ${faults.current ?? '—'}`,
          );
        })
        .catch(() => undefined); // PostgreSQL restarting: no sample this second
    }, 1_000);

    cpu.start();
    drops.start();
    // A short run may still be repairing its last fault when its duration is over: the load goes on until
    // a few seconds after the last repair, so that every recovery is observed under load.
    let faultsDoneAt = Infinity;
    const [offerMs] = await Promise.all([
      load.offer(
        durationSec * 1_000,
        () =>
          Date.now() < faultsDoneAt + AFTER_LAST_FAULT_MS &&
          Date.now() < startedAt + durationSec * 1_000 + MAX_OVERRUN_MS,
      ),
      faults.run(durationSec * 1_000).finally(() => (faultsDoneAt = Date.now())),
    ]);
    const loadEndedAt = Date.now();
    const acceptedDuringLoad = load.acceptedMessages;
    loadEnded = true;
    drops.stop();
    await load.drain(120_000);
    const cpuFigures = cpu.stop();
    progress.done(`load over after ${round(offerMs / 1_000)} s; waiting until every message is final`);

    let settledAt: number | null = null;
    try {
      await waitUntil(
        'every message final',
        () => {
          const last = samples.at(-1);
          return !!last && last.at > loadEndedAt && last.pending === 0 && last.total >= load.acceptedMessages;
        },
        settleTimeoutSec * 1_000,
        500,
      );
      settledAt = Date.now();
    } catch (error) {
      console.error((error as Error).message);
    }
    clearInterval(monitor);

    const clientLedger = join(ledgerDir, 'client.jsonl');
    const phoneLedger = join(ledgerDir, 'phone.jsonl');
    const running = system;
    const checkInvariants = async () => {
      writeClientLedger(clientLedger, load.ledger);
      writePhoneLedger(
        phoneLedger,
        fleets.map((fleet) => fleet.ledger),
      );
      const check = await running.cli(
        'check',
        '--settled',
        '--client-ledger',
        clientLedger,
        '--phone-ledger',
        phoneLedger,
      );
      if (check.status !== 0 && check.status !== 2) throw new Error(`check failed to run: ${check.stderr}`);
      return JSON.parse(check.stdout.trim().split('\n').at(-1) as string) as InvariantResult[];
    };
    // "Settled" includes the queues' drain (docs/reliability.md, as the fault suites count it): a job whose
    // ack could not be recorded stays active until its lock expires, then goes out again (the phone ignores
    // the repeat) and completes. While L6 alone fails, look again, for at most QUEUE_DRAIN_MS.
    let invariants = await checkInvariants();
    const drainStarted = Date.now();
    const onlyResidue = () => invariants.filter((i) => !i.holds).every((i) => i.id === 'L6');
    while (
      !invariants.find((i) => i.id === 'L6')?.holds &&
      onlyResidue() &&
      Date.now() - drainStarted < QUEUE_DRAIN_MS
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      invariants = await checkInvariants();
    }
    const queueDrainSec = round((Date.now() - drainStarted) / 1_000);

    const [latency] = (
      await system.db().query<{ p50: number | null; p99: number | null }>(
        `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at))::float AS p50,
                percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at))::float AS p99
           FROM messages WHERE status = 7`,
      )
    ).rows;
    const byStatus = Object.fromEntries(
      (
        await system
          .db()
          .query<{ status: number; n: number }>(
            `SELECT status, count(*)::int AS n FROM messages GROUP BY status ORDER BY status`,
          )
      ).rows.map((row) => [String(row.status), row.n]),
    );
    // An acknowledged report is in PostgreSQL (L9, ADR 1801): none of those messages may end as "no report".
    const acknowledgedIds = [...new Set(fleets.flatMap((fleet) => [...fleet.ledger.acknowledged.keys()]))];
    const [{ reportedButNoReport }] = (
      await system
        .db()
        .query<{ reportedButNoReport: number }>(
          `SELECT count(*)::int AS "reportedButNoReport" FROM messages WHERE status = 203 AND id = ANY($1::bigint[])`,
          [acknowledgedIds],
        )
    ).rows;
    const deliveredAtLoadEnd = samples.filter((s) => s.at <= loadEndedAt).at(-1)?.delivered ?? 0;
    const loadFigures = load.figures();
    const receivedAt = fleets.flatMap((fleet) =>
      fleet.ledger.received.filter((r) => !r.repeat).map((r) => r.at),
    );
    const result: SoakResult = {
      date,
      command: `npm run test:soak${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      machine,
      options: { rate, durationSec, phones: phoneCount, dropShare },
      load: {
        ...loadFigures,
        offerSeconds: round(offerMs / 1_000),
        offeredPerSec: round(loadFigures.offeredMessages / (offerMs / 1_000)),
        acceptedPerSec: round(acceptedDuringLoad / (offerMs / 1_000)),
      },
      delivery: {
        deliveredDuringLoadPerSec: round(deliveredAtLoadEnd / ((loadEndedAt - startedAt) / 1_000)),
        acceptToDeliveredP50Sec: latency.p50 === null ? null : round(latency.p50, 2),
        acceptToDeliveredP99Sec: latency.p99 === null ? null : round(latency.p99, 2),
        settledAfterLoadSec: settledAt === null ? null : round((settledAt - loadEndedAt) / 1_000),
        queueDrainSec,
        byStatus,
        reportedButNoReport,
      },
      phones: { flaky: drops.flaky.length, drops: drops.drops },
      faults: faults.records.map((record): FaultOutcome => {
        const injected = startedAt + record.injectedAt;
        const repaired = startedAt + record.restoredAt;
        const firstAfter = (times: number[], after: number) => {
          let first = Infinity;
          for (const t of times) if (t >= after && t < first) first = t;
          return first === Infinity ? null : round((first - injected) / 1_000);
        };
        const rise = samples.find(
          (s, i) => i > 0 && s.at >= repaired && s.delivered > samples[i - 1].delivered,
        );
        return {
          fault: record.fault,
          injectedAtSec: round(record.injectedAt / 1_000),
          repairSec: round((record.restoredAt - record.injectedAt) / 1_000),
          intakeRecoverySec: firstAfter(
            load.answers.filter((a) => a.attemptAt >= injected).map((a) => a.answeredAt),
            injected,
          ),
          dispatchRecoverySec: firstAfter(receivedAt, repaired),
          deliveryRecoverySec: rise ? round((rise.at - injected) / 1_000) : null,
          repaired: record.repaired,
          note: record.note,
        };
      }),
      // The offending ids of a broken invariant are where an investigation starts.
      invariants: invariants.map(({ id, title, holds, counts, examples }) => ({
        id,
        title,
        holds,
        counts,
        examples: holds ? [] : examples,
      })),
      cpu: cpuFigures,
      loadAverageAtStart: cpu.loadAverageAtStart.map((n) => round(n, 2)),
      passed:
        invariants.every((i) => i.holds) &&
        reportedButNoReport === 0 &&
        loadFigures.refused === 0 &&
        loadFigures.abandoned === 0 &&
        faults.records.length === faults.count &&
        faults.records.every((record) => record.repaired),
    };
    printResult(result);
    // Stalls Redis itself noticed (fork for an AOF rewrite, fsync, slow commands; threshold 100 ms).
    console.log('redis LATENCY LATEST:', JSON.stringify(await system.redis().call('LATENCY', 'LATEST')));
    writeResultJson(out, result);
    console.log(`results: ${out}`);
    if (options.has('record')) {
      const recorded = recordedResultPath(ROOT, 'soak', date);
      writeResultJson(recorded, result);
      console.log(`recorded: ${recorded}`);
    }
    passed = result.passed;
    process.exitCode = result.passed ? 0 : 1;
  } finally {
    await cleanUp();
  }
}

/** The postmaster's pid, or none while it restarts (its pid file is rewritten then). */
function postmasterPid(postgres: PostgresCluster): number | undefined {
  try {
    return postgres.pid;
  } catch {
    return undefined;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(
      error instanceof UsageError
        ? `${error.message}\n${USAGE}`
        : `soak failed: ${(error as Error).stack ?? String(error)}`,
    );
    process.exit(1);
  },
);
