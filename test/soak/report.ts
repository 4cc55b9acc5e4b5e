import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InvariantResult } from '@smsfleet/invariants';
import { MachineInfo } from '../bench/machine';
import { FaultName } from './faults';
import { LoadFigures } from './load';

export interface FaultOutcome {
  fault: FaultName;
  /** s after the load started */
  injectedAtSec: number;
  /** kill → live again (apps), kill → answering (Redis), pg_ctl restart's duration (PostgreSQL) */
  repairSec: number;
  /** fault → the first 2xx to a request attempted after the fault */
  intakeRecoverySec: number | null;
  /** fault → the first new `sms` at a phone after the repair */
  dispatchRecoverySec: number | null;
  /** fault → the first rise of the delivered count in PostgreSQL after the repair (1 s resolution) */
  deliveryRecoverySec: number | null;
  repaired: boolean;
  note?: string;
}

export interface SoakResult {
  date: string;
  command: string;
  machine: MachineInfo;
  options: { rate: number; durationSec: number; phones: number; dropShare: number };
  load: LoadFigures & { offeredPerSec: number; acceptedPerSec: number; offerSeconds: number };
  delivery: {
    deliveredDuringLoadPerSec: number;
    acceptToDeliveredP50Sec: number | null;
    acceptToDeliveredP99Sec: number | null;
    settledAfterLoadSec: number | null;
    /** after settling: until no job was left for a final message (L6), at most the suites' 60 s */
    queueDrainSec?: number;
    byStatus: Record<string, number>;
    /** Messages that ended as 203 ("no report") although a phone saw a report of theirs acknowledged: must be 0. */
    reportedButNoReport?: number;
  };
  phones: { flaky: number; drops: number };
  faults: FaultOutcome[];
  invariants: Array<Pick<InvariantResult, 'id' | 'title' | 'holds' | 'counts' | 'examples'>>;
  cpu: { coresUsed: Record<string, number>; machineBusyCores: number; cores: number; loadAverage: number[] };
  loadAverageAtStart: number[];
  passed: boolean;
}

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits });

export function printResult(result: SoakResult): void {
  console.log('');
  for (const invariant of result.invariants)
    console.log(
      `${invariant.id} ${invariant.holds ? 'ok  ' : 'FAIL'} ${invariant.title}: ${Object.entries(
        invariant.counts,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  console.table(
    result.faults.map((f) => ({
      fault: f.fault,
      'at s': f.injectedAtSec,
      'repair s': f.repairSec,
      'intake back s': f.intakeRecoverySec ?? '—',
      'dispatch back s': f.dispatchRecoverySec ?? '—',
      'delivery back s': f.deliveryRecoverySec ?? '—',
    })),
  );
  const l = result.load;
  console.log(
    `load: offered ${fmt(l.offeredPerSec)} msg/s (${l.offeredLate ?? 0} messages offered over 1 s late, ${l.notOfferedSaturated} never offered), accepted ${fmt(l.acceptedPerSec)} msg/s (target ${result.options.rate}); ` +
      `${l.acceptedMessages} messages in ${l.acceptedRequests} requests, ${l.retries} retries, ${l.refused} refused, ${l.abandoned} abandoned`,
  );
  console.log(
    `delivery: ${fmt(result.delivery.deliveredDuringLoadPerSec)} msg/s during the load; accept→delivered p50 ` +
      `${fmt(result.delivery.acceptToDeliveredP50Sec, 2)} s, p99 ${fmt(result.delivery.acceptToDeliveredP99Sec, 2)} s; ` +
      `settled ${fmt(result.delivery.settledAfterLoadSec)} s after the load`,
  );
  console.log(`cpu (cores used on average): ${JSON.stringify(result.cpu)}`);
  console.log(result.passed ? 'soak passed' : 'soak FAILED');
}

export function writeResultJson(path: string, result: SoakResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 2));
}
