import { readFileSync } from 'node:fs';
import { BenchSystem } from '../bench-system';
import { connectFleet, fillQueues, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { round } from '../stats';

const PACE_SECONDS = 2;
const PER_PHONE = 3;
const SLACK_MS = 50;

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Many paced phones on one dispatcher: pacing holds for every one, and what each phone costs. */
export const fleet: Scenario = {
  name: 'fleet',
  description: '2,000 phones connected to one dispatcher, each paced',
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
      progress.done(`${phones} phones; pace violations ${violations}; min gap ${minGap} ms`);
      return {
        scenario: this.name,
        description: this.description,
        system: { label: 'phones paced correctly', value: pacedPhones, unit: `of ${phones}` },
        target: 'all paced correctly; RSS and Redis connections per phone reported',
        met: context.scale >= 1 ? violations === 0 : null,
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
        },
      };
    } finally {
      await system.stop();
    }
  },
};
