import { readFileSync } from 'node:fs';
import { BenchSystem } from '../../harness/bench-system';
import { connectFleet, fillQueues, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { round } from '../stats';
import { measureSseFleet } from './fleet-sse';

const PACE_SECONDS = 2;
const PER_PHONE = 3;
const SLACK_MS = 50;

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** SSE phones: what one costs the dispatcher at most, and how fast an idle one is woken (p99). */
const SSE_TARGET_KIB_PER_PHONE = 100;
const SSE_TARGET_WAKE_P99_MS = 100;

/**
 * Many paced phones on one dispatcher: pacing holds for every one, and what each phone costs; then the
 * same for phones running the SMSGate app (event streams), and how fast one is woken.
 */
export const fleet: Scenario = {
  name: 'fleet',
  description: '2,000 socket.io phones, then 5,000 SMSGate (SSE) phones, on one dispatcher, each paced',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('fleet');
    const phones = scaled(2_000, context, 2);
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api', 'dispatcher', 'status']);
      const dispatcherPid = system.pidOf('dispatcher') as number;
      const rssBefore = rssMiB(dispatcherPid);
      const clientsBefore = String(await system.redis().client('LIST'))
        .split('\n')
        .filter((line) => line.includes('smsfleet:dispatcher')).length;
      const account = system.createAccount();
      const credentials = await system.registerPhones(account, phones, (n) =>
        progress.update(`registered ${n}/${phones}`),
      );
      await system.db().query(`UPDATE devices SET delay_between_sms = $1`, [PACE_SECONDS]);
      await fillQueues(
        system,
        account,
        credentials.map((c) => c.deviceId),
        PER_PHONE,
        {},
        (n) => progress.update(`queued ${n}`),
      );
      const phonesFleet = await connectFleet(
        system,
        account,
        credentials,
        { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0 },
        (n) => progress.update(`connected ${n}/${phones}`),
      );
      const total = phones * PER_PHONE;
      await waitUntil(
        'every message at its phone',
        () => {
          progress.update(`at phones ${phonesFleet.ledger.received.length}/${total}`);
          return phonesFleet.ledger.received.filter((entry) => !entry.repeat).length >= total;
        },
        300_000,
        200,
      );
      const rssAfter = rssMiB(dispatcherPid);
      const clientsAfter = String(await system.redis().client('LIST'))
        .split('\n')
        .filter((line) => line.includes('smsfleet:dispatcher')).length;
      const byPhone = new Map<number, number[]>();
      for (const entry of phonesFleet.ledger.received)
        byPhone.set(entry.deviceId, [...(byPhone.get(entry.deviceId) ?? []), entry.at]);
      let minGap = Infinity;
      let violations = 0;
      let pacedPhones = 0;
      for (const times of byPhone.values()) {
        times.sort((a, b) => a - b);
        let paced = true;
        for (let i = 1; i < times.length; i++) {
          const gap = times[i] - times[i - 1];
          minGap = Math.min(minGap, gap);
          // Measured at the receiving end, which adds its own event-loop jitter to what the server spaced out.
          if (gap < PACE_SECONDS * 1_000 - SLACK_MS) {
            violations++;
            paced = false;
          }
        }
        if (paced) pacedPhones++;
      }
      phonesFleet.stop();
      progress.update(`${phones} phones; pace violations ${violations}; min gap ${minGap} ms`);
      const sse = await measureSseFleet(scaled(5_000, context, 2), progress);
      progress.done(
        `${phones} socket phones (pace violations ${violations}); ${sse.phones} SSE phones: ${sse.rssKiBPerPhone} KiB each, wake p99 ${sse.wakeP99Ms} ms`,
      );
      const sseMet =
        sse.rssKiBPerPhone <= SSE_TARGET_KIB_PER_PHONE &&
        sse.wakeP99Ms <= SSE_TARGET_WAKE_P99_MS &&
        sse.paceViolations === 0 &&
        sse.redisClientsAfter === sse.redisClientsBefore;
      return {
        scenario: this.name,
        description: this.description,
        system: { label: 'phones paced correctly', value: pacedPhones, unit: `of ${phones}` },
        target: `all paced correctly; SSE phones ≤ ${SSE_TARGET_KIB_PER_PHONE} KiB RSS each, MessageEnqueued to an idle one ≤ ${SSE_TARGET_WAKE_P99_MS} ms p99, Redis connections independent of the phone count`,
        met: context.scale >= 1 ? violations === 0 && sseMet : null,
        details: {
          phones,
          messages: total,
          'pace s': PACE_SECONDS,
          'smallest gap between two messages to one phone, ms': minGap,
          'pace violations': violations,
          'dispatcher RSS MiB (before → after)': `${round(rssBefore)} → ${round(rssAfter)}`,
          'dispatcher RSS KiB per phone': round(((rssAfter - rssBefore) * 1024) / phones, 1),
          'dispatcher Redis connections (before → after)': `${clientsBefore} → ${clientsAfter}`,
          'Redis connections per phone': round((clientsAfter - clientsBefore) / phones, 4),
          'SSE phones (SMSGate app double, stream open)': sse.phones,
          'SSE: dispatcher RSS KiB per phone': sse.rssKiBPerPhone,
          'SSE baseline: bare node:http server, RSS KiB per stream': sse.baselineRssKiBPerStream,
          'SSE: dispatcher Redis connections (before → after)': `${sse.redisClientsBefore} → ${sse.redisClientsAfter}`,
          'SSE: work signal → MessageEnqueued at an idle phone, p50 / p99 ms': `${sse.wakeP50Ms} / ${sse.wakeP99Ms} (${sse.wakeSamples} phones)`,
          'SSE: event-loop delay during the wake-ups, p99 / max ms: dispatcher; bench (the phones)': `${sse.dispatcherLoopP99Ms} / ${sse.dispatcherLoopMaxMs}; ${sse.benchLoopP99Ms} / ${sse.benchLoopMaxMs}`,
          'SSE baseline: bare server, Redis message → event at the client, p50 / p99 ms': `${sse.baselineWakeP50Ms} / ${sse.baselineWakeP99Ms}`,
          'SSE: addsms request → MessageEnqueued at the phone (API intake included), p50 / p99 ms': `${sse.wakeFromRequestP50Ms} / ${sse.wakeFromRequestP99Ms}`,
          'SSE: phones paced on air (4 messages each, pace 2 s)': `${sse.pacedPhones} (violations ${sse.paceViolations})`,
          'SSE: gaps under the pace as received (each pull adds its round trip)': sse.receivedGapViolations,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
