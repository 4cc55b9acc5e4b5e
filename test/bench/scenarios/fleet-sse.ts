import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type IORedis from 'ioredis';
import { SmsGateFleet } from '../../../tools/simulator/smsgate/smsgate-fleet';
import { processFigures } from '../app-metrics';
import { runBaseline } from '../baselines/run-child';
import { BenchSystem } from '../../harness/bench-system';
import { waitUntil } from '../phones';
import { Progress } from '../progress';
import { percentile, round } from '../stats';

const PACE_SECONDS = 2;
const SLACK_MS = 50;

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

async function dispatcherRedisClients(system: BenchSystem): Promise<number> {
  return String(await system.redis().client('LIST'))
    .split('\n')
    .filter((line) => line.includes('smsfleet:dispatcher')).length;
}

export interface SseFleetFigures {
  phones: number;
  rssKiBPerPhone: number;
  baselineRssKiBPerStream: number;
  /** The bare server's wake-up (a Redis message → the event at the client), the floor on this machine now. */
  baselineWakeP50Ms: number;
  baselineWakeP99Ms: number;
  redisClientsBefore: number;
  redisClientsAfter: number;
  /** From the work signal (the dispatcher's input) to the event at the phone. */
  wakeP50Ms: number;
  wakeP99Ms: number;
  /** From the client's addsms request to the event at the phone (the API's intake included). */
  wakeFromRequestP50Ms: number;
  wakeFromRequestP99Ms: number;
  wakeSamples: number;
  /**
   * Event-loop delay during the wake-ups, p99 / max ms: the dispatcher's (it writes the event) and this
   * process's (it hosts every phone double and timestamps both ends), to tell which one holds the tail.
   */
  dispatcherLoopP99Ms: number;
  dispatcherLoopMaxMs: number;
  benchLoopP99Ms: number;
  benchLoopMaxMs: number;
  /** Pace on air (the phone's sends), the rule that matters. */
  paceViolations: number;
  pacedPhones: number;
  /** Pace as the phone received the messages (adds each pull's round trip). */
  receivedGapViolations: number;
}

/**
 * A bare SSE server holding `count` streams opened from here: its RSS per stream, and the floor of a
 * wake-up on this machine now (a Redis message → the event at the client), p50 and p99 over `samples`.
 */
async function sseBaseline(
  count: number,
  samples: number,
  redis: IORedis,
  redisUrl: string,
): Promise<{ kiBPerStream: number; wakeP50Ms: number; wakeP99Ms: number }> {
  const channel = `smsfleet-bench-sse-baseline-${process.pid}`;
  const arrivals = new Map<number, number>();
  const closers: Array<() => void> = [];
  let memory: { streams: number; rssBeforeKiB: number; rssAfterKiB: number } | undefined;
  const done = runBaseline<Record<string, unknown>>(
    'sse-streams',
    {
      PATH: process.env.PATH,
      STREAMS: String(count),
      CHANNEL: channel,
      REDIS_URL: redisUrl,
    },
    (line) => {
      if (typeof line.rssAfterKiB === 'number') memory = line as typeof memory;
      if (typeof line.port !== 'number') return;
      for (let n = 0; n < count; n++) {
        const index = n;
        const opened = request({ host: '127.0.0.1', port: line.port, path: '/events' }, (response) =>
          response.on('data', (chunk: Buffer) => {
            if (chunk.includes('MessageEnqueued')) arrivals.set(index, Date.now());
          }),
        );
        opened.on('error', () => undefined);
        opened.end();
        closers.push(() => opened.destroy());
      }
    },
  ).catch(() => undefined);
  await waitUntil('baseline streams open', () => memory !== undefined, 300_000, 100);
  const latencies: number[] = [];
  for (let n = 0; n < Math.min(samples, count); n++) {
    const sentAt = Date.now();
    await redis.publish(channel, String(n));
    await waitUntil('baseline wake-up', () => arrivals.has(n), 10_000, 1);
    latencies.push((arrivals.get(n) as number) - sentAt);
  }
  await redis.publish(channel, 'stop');
  await done;
  for (const close of closers) close();
  const used = memory as { streams: number; rssBeforeKiB: number; rssAfterKiB: number };
  return {
    kiBPerStream: (used.rssAfterKiB - used.rssBeforeKiB) / used.streams,
    wakeP50Ms: percentile(latencies, 50),
    wakeP99Ms: percentile(latencies, 99),
  };
}

/**
 * `phones` SMSGate app phones (the app's double) with their event streams open on one dispatcher node,
 * each paced: the node's RSS and Redis connections per phone, how fast `MessageEnqueued` reaches an idle
 * phone (from the client's `addsms` to the event at the phone), and pacing.
 */
export async function measureSseFleet(phones: number, progress: Progress): Promise<SseFleetFigures> {
  const system = await BenchSystem.create();
  try {
    progress.update(`SSE baseline: a bare server holding ${phones} streams`);
    const baseline = await sseBaseline(phones, 200, system.redis(), system.redisUrl);
    await system.startApps(['api', 'dispatcher', 'status']);
    const dispatcherPid = system.pidOf('dispatcher') as number;
    // Every phone registered from here on is paced (the column's default, in this throwaway database).
    await system.db().query(`ALTER TABLE devices ALTER COLUMN delay_between_sms SET DEFAULT ${PACE_SECONDS}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 20 * phones)));
    const rssBefore = rssKiB(dispatcherPid);
    const clientsBefore = await dispatcherRedisClients(system);
    const account = system.createAccount();
    const token = (await system.cli('phone:token', '--email', account.email)).stdout.trim();
    const wakes = new Map<number, number[]>();
    const onAir = new Map<number, number[]>();
    // When the work signal for each device went out, as any dispatcher hears it.
    const signalled = new Map<number, number[]>();
    const subscriber = system.redis().duplicate();
    await subscriber.subscribe(`${system.redisPrefix}:work-signal`);
    subscriber.on('message', (_channel: string, message: string) => {
      const at = Date.now();
      for (const part of message.split(',')) {
        const deviceId = Number(part.replace('!', ''));
        signalled.set(deviceId, [...(signalled.get(deviceId) ?? []), at]);
      }
    });
    const fleet = new SmsGateFleet({
      serverUrl: `${system.dispatcherUrl}/mobile/v1`,
      privateToken: token,
      behaviour: { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0 },
      retryBackoffMs: 1_000,
      onEvent: (index, event, at) => {
        if (event === 'MessageEnqueued') wakes.set(index, [...(wakes.get(index) ?? []), at]);
      },
      onSent: (index, _id, at) => onAir.set(index, [...(onAir.get(index) ?? []), at]),
    });
    const starting = fleet.start(phones, [], 100);
    await waitUntil(
      'every stream open',
      () => {
        progress.update(`SSE phones: ${fleet.streamsOpen}/${phones} streams open`);
        return fleet.streamsOpen === phones;
      },
      600_000,
      500,
    );
    await starting;
    // Sessions of phones that only opened their stream and pulled nothing settle; then measure.
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 50 * phones)));
    global.gc?.();
    const rssAfter = rssKiB(dispatcherPid);
    const clientsAfter = await dispatcherRedisClients(system);

    // An idle phone is woken: one message each to a sample, from the client's request to the event.
    const sample = fleet.phones.slice(0, Math.min(200, phones));
    await processFigures(system.dispatcherUrl); // prom-client's monitor restarts at each scrape
    const benchLoop = monitorEventLoopDelay({ resolution: 10 });
    benchLoop.enable();
    const latencies: number[] = [];
    const fromRequest: number[] = [];
    for (let i = 0; i < sample.length; i += 4) {
      await Promise.all(
        sample.slice(i, i + 4).map(async (phone, k) => {
          const index = i + k;
          const before = wakes.get(index)?.length ?? 0;
          const signalsBefore = signalled.get(phone.deviceId)?.length ?? 0;
          const sentAt = Date.now();
          const response = await fetch(`${system.apiUrl}/getdata/addsms`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              token: account.token,
              sendto: '+4915700000001',
              body: 'wake',
              device_id: phone.deviceId,
            }),
          });
          await response.json();
          await waitUntil('the wake-up', () => (wakes.get(index)?.length ?? 0) > before, 10_000, 2);
          const wokeAt = (wakes.get(index) as number[])[before];
          fromRequest.push(wokeAt - sentAt);
          await waitUntil(
            'the work signal seen',
            () => (signalled.get(phone.deviceId)?.length ?? 0) > signalsBefore,
            10_000,
            2,
          );
          latencies.push(wokeAt - (signalled.get(phone.deviceId) as number[])[signalsBefore]);
        }),
      );
      progress.update(`SSE phones: woke ${latencies.length}/${sample.length}`);
    }
    const dispatcherLoop = await processFigures(system.dispatcherUrl);
    benchLoop.disable();

    // Paced: three messages to each of the sample's phones; at the phone, never two closer than the pace.
    for (const phone of sample)
      await fetch(`${system.apiUrl}/getdata/addsms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token: account.token,
          sendto: '+4915700000002,+4915700000003,+4915700000004',
          body: 'paced',
          device_id: phone.deviceId,
        }),
      });
    const expected = sample.length * 4;
    await waitUntil(
      'paced messages at the phones',
      () => {
        const got = fleet.ledger.received.filter((entry) => !entry.repeat).length;
        progress.update(`SSE phones: paced ${got}/${expected}`);
        return got >= expected;
      },
      120_000,
      200,
    );
    await waitUntil(
      'paced messages on air',
      () => [...onAir.values()].reduce((n, t) => n + t.length, 0) >= expected,
      60_000,
      200,
    );
    const tooClose = (times: number[]) => {
      const sorted = [...times].sort((a, b) => a - b);
      return sorted.slice(1).filter((at, n) => at - sorted[n] < PACE_SECONDS * 1_000 - SLACK_MS).length;
    };
    const byPhone = new Map<number, number[]>();
    for (const entry of fleet.ledger.received.filter((e) => !e.repeat))
      byPhone.set(entry.deviceId, [...(byPhone.get(entry.deviceId) ?? []), entry.at]);
    const receivedGapViolations = [...byPhone.values()].reduce((n, times) => n + tooClose(times), 0);
    const airViolations = [...onAir.values()].map(tooClose);
    const violations = airViolations.reduce((n, bad) => n + bad, 0);
    const pacedPhones = airViolations.filter((bad) => bad === 0).length;
    fleet.stop();
    await subscriber.quit();
    return {
      phones,
      rssKiBPerPhone: round((rssAfter - rssBefore) / phones, 1),
      baselineRssKiBPerStream: round(baseline.kiBPerStream, 1),
      baselineWakeP50Ms: baseline.wakeP50Ms,
      baselineWakeP99Ms: baseline.wakeP99Ms,
      redisClientsBefore: clientsBefore,
      redisClientsAfter: clientsAfter,
      wakeP50Ms: percentile(latencies, 50),
      wakeP99Ms: percentile(latencies, 99),
      wakeFromRequestP50Ms: percentile(fromRequest, 50),
      wakeFromRequestP99Ms: percentile(fromRequest, 99),
      wakeSamples: latencies.length,
      dispatcherLoopP99Ms: dispatcherLoop.loopP99Ms,
      dispatcherLoopMaxMs: dispatcherLoop.loopMaxMs,
      benchLoopP99Ms: round(benchLoop.percentile(99) / 1e6, 1),
      benchLoopMaxMs: round(benchLoop.max / 1e6, 1),
      paceViolations: violations,
      pacedPhones,
      receivedGapViolations,
    };
  } finally {
    await system.stop();
  }
}
