import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SimulatedFleet } from '../../../tools/simulator/fleet';
import { processFigures } from '../app-metrics';
import { BenchAccount, BenchSystem } from '../../harness/bench-system';
import {
  contentionBetween,
  cpuMsBetween,
  cpuUsersBetween,
  machineSchedStat,
  schedStatOf,
  waitPerWakeupMs,
} from '../machine';
import { connectFleet, fillQueues, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { percentile, round } from '../stats';

const URGENT_EVERY_MS = 50;
const PHONE_BEHAVIOUR = { sendDelayMs: 50, deliveryDelayMs: 50, failureShare: 0 };

interface UrgentLatencies {
  /** Accepted (the row's created_at, stamped by the API before its INSERT) → phone, ms. */
  acceptedToPhone: number[];
  /** The client's view: request sent → phone, ms. */
  requestToPhone: number[];
  /** Request sent → API answer read, ms. */
  answer: number[];
}

/** Sends one urgent message every 50 ms for `durationMs`, round robin over the phones, and times each one. */
async function trickleUrgent(
  system: BenchSystem,
  account: BenchAccount,
  deviceIds: number[],
  fleet: SimulatedFleet,
  durationMs: number,
): Promise<UrgentLatencies> {
  const acceptStarted = new Map<number, number>();
  const answered = new Map<number, number>();
  const deadline = Date.now() + durationMs;
  let next = 0;
  while (Date.now() < deadline) {
    const deviceId = deviceIds[next++ % deviceIds.length];
    const started = Date.now();
    const response = await fetch(`${system.apiUrl}/getdata/addsms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: account.token,
        sendto: '+4915799999999',
        body: 'OTP 123456',
        device_id: deviceId,
        urgent: 1,
      }),
    });
    const answer = (await response.json()) as { error: number; sms_id: number };
    if (answer.error === 0) {
      acceptStarted.set(answer.sms_id, started);
      answered.set(answer.sms_id, Date.now());
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, URGENT_EVERY_MS - (Date.now() - started))),
    );
  }
  const arrivalsOfUrgent = () =>
    fleet.ledger.received.filter((entry) => acceptStarted.has(entry.id) && !entry.repeat);
  await waitUntil(
    'every urgent message at a phone',
    () => arrivalsOfUrgent().length >= acceptStarted.size,
    120_000,
  );
  const arrivals = arrivalsOfUrgent();
  // The row's created_at is on the same clock as the phones' and free of this process's lateness in
  // reading the answer; the client's view, from sending the request, is reported next to it.
  const { rows: stamps } = await system
    .db()
    .query<{ id: string; accepted_ms: number }>(
      `SELECT id, (extract(epoch from created_at) * 1000)::float8 AS accepted_ms FROM messages WHERE id = ANY($1::bigint[])`,
      [[...acceptStarted.keys()]],
    );
  const acceptedAt = new Map(stamps.map((row) => [Number(row.id), row.accepted_ms]));
  return {
    acceptedToPhone: arrivals.map((entry) => Math.round(entry.at - (acceptedAt.get(entry.id) as number))),
    requestToPhone: arrivals.map((entry) => entry.at - (acceptStarted.get(entry.id) as number)),
    answer: [...acceptStarted].map(([id, at]) => (answered.get(id) as number) - at),
  };
}

const p50p99 = (values: number[]) => `${percentile(values, 50)} / ${percentile(values, 99)}`;

/** Urgent messages trickle in while a large normal backlog drains: accept → phone latency of the urgent ones. */
export const urgentLatency: Scenario = {
  name: 'urgent-latency',
  description: '100,000 normal messages queued, urgent ones trickle in',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('urgent-latency');
    const backlog = scaled(100_000, context, 100);
    const phones = Math.min(100, Math.max(2, Math.round(backlog / 1_000)));
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api', 'dispatcher', 'status', 'scheduler']);
      const account = system.createAccount();
      const credentials = await system.registerPhones(account, phones);
      const deviceIds = credentials.map((c) => c.deviceId);

      // The path's own latency on this machine, same run, same phones: no backlog, nothing else running.
      const floorMs = Math.max(2, Math.round(context.durationSec / 2)) * 1_000;
      progress.update(`floor: urgent messages for ${floorMs / 1000} s with no backlog`, true);
      const idleFleet = await connectFleet(system, account, credentials, PHONE_BEHAVIOUR);
      const floor = await trickleUrgent(system, account, deviceIds, idleFleet, floorMs);
      idleFleet.stop();

      await fillQueues(system, account, deviceIds, Math.ceil(backlog / phones), {}, (n) =>
        progress.update(`normal backlog queued: ${n}/${backlog}`),
      );
      const fleet = await connectFleet(system, account, credentials, PHONE_BEHAVIOUR);
      progress.update(
        `${phones} phones connected; backlog draining; urgent messages every ${URGENT_EVERY_MS} ms`,
        true,
      );

      // The phones live in this process: its own lateness is part of every figure below, so it is reported,
      // and so is how much every process on the machine had to wait for one of its CPUs.
      const benchLoopDelay = monitorEventLoopDelay({ resolution: 10 });
      benchLoopDelay.enable();
      const pids = system.processIds();
      const schedBefore = Object.fromEntries(
        Object.entries(pids).map(([app, pid]) => [app, schedStatOf(pid)]),
      );
      const machineBefore = machineSchedStat();
      const [, dispatcherBefore] = await Promise.all([
        processFigures(system.apiUrl),
        processFigures(system.dispatcherUrl),
      ]);
      const loaded = await trickleUrgent(system, account, deviceIds, fleet, context.durationSec * 1_000);
      const machineAfter = machineSchedStat();
      const [apiLoop, dispatcherLoop] = await Promise.all([
        processFigures(system.apiUrl),
        processFigures(system.dispatcherUrl),
      ]);
      const contention = contentionBetween(machineBefore, machineAfter);
      const wakeupWait = Object.entries(pids)
        .filter(([app]) => app === 'api' || app === 'dispatcher' || app.startsWith('bench'))
        .map(([app, pid]) => `${app} ${round(waitPerWakeupMs(schedBefore[app], schedStatOf(pid)), 2)}`)
        .join(' / ');
      benchLoopDelay.disable();
      const normalsSeen = fleet.ledger.received.filter((entry) => !entry.urgent).length;
      fleet.stop();
      const latencies = loaded.acceptedToPhone;
      const p99 = percentile(latencies, 99);
      progress.done(
        `urgent accepted → phone p99 ${p99} ms over ${latencies.length} urgent messages (no backlog: ${percentile(floor.acceptedToPhone, 99)} ms)`,
      );
      return {
        scenario: this.name,
        description: this.description,
        system: { label: 'urgent accepted (stored by the API) → phone, p99', value: p99, unit: 'ms' },
        target: 'p99 < 50 ms',
        met: context.scale >= 1 ? p99 < 50 : null,
        details: {
          'urgent messages': latencies.length,
          'p50 ms': percentile(latencies, 50),
          'p90 ms': percentile(latencies, 90),
          'max ms': Math.max(...latencies),
          "request sent → phone p50 / p99 ms (the client's view, API answer included)": p50p99(
            loaded.requestToPhone,
          ),
          'api answer p50 / p99 ms': p50p99(loaded.answer),
          'floor, same run with no backlog: accepted → phone p50 / p99 ms': p50p99(floor.acceptedToPhone),
          'floor, api answer p50 / p99 ms': p50p99(floor.answer),
          'bench process event-loop delay p50 / p99 ms': `${round(benchLoopDelay.percentile(50) / 1e6, 1)} / ${round(benchLoopDelay.percentile(99) / 1e6, 1)}`,
          'event-loop delay p99 during the drain, ms: api / dispatcher / bench (phones)': `${apiLoop.loopP99Ms} / ${dispatcherLoop.loopP99Ms} / ${round(benchLoopDelay.percentile(99) / 1e6, 1)}`,
          'dispatcher GC during the drain, ms (of which major)': `${round(dispatcherLoop.gcMs - dispatcherBefore.gcMs)} (${round(dispatcherLoop.majorGcMs - dispatcherBefore.majorGcMs)})`,
          'machine during the drain: CPUs busy / threads waiting for a CPU (average)': `${round(contention.busyShare * 100)} % / ${round(contention.waitingThreads, 2)}`,
          'wait for a CPU per wakeup, ms (main threads)': wakeupWait,
          'dispatcher CPU ms per message delivered meanwhile': round(
            cpuMsBetween(machineBefore, machineAfter, pids.dispatcher) / Math.max(1, normalsSeen),
            3,
          ),
          'CPU used during the drain, % of one core': cpuUsersBetween(machineBefore, machineAfter, pids),
          'normal backlog': backlog,
          'normal messages delivered meanwhile': normalsSeen,
          phones,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
