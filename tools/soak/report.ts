import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InvariantResult } from '@smsfleet/queueing';
import { MachineInfo } from '../bench/machine';
import { insertNewestFirst } from '../bench/report';
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

export const SOAK_MARKER = '<!-- soak runs: newest first; npm run test:soak inserts below this line -->';

export function toMarkdown(result: SoakResult): string {
  const m = result.machine;
  const l = result.load;
  const d = result.delivery;
  const r8 = result.invariants.find((i) => i.id === 'L8')?.counts;
  const lines = [
    `### ${result.date} — \`${result.command}\` — ${result.passed ? 'passed' : 'FAILED'}`,
    '',
    `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB; Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis} ` +
      `(private instances, AOF everysec); load average ${result.loadAverageAtStart.join(' ')} at the start, ` +
      `${result.cpu.loadAverage.join(' ')} at the end (the soak's own processes included; see the CPU row).`,
    '',
    '| figure | value |',
    '|---|---|',
    `| target | ${result.options.rate} msg/s for ${result.options.durationSec} s, ${result.options.phones} phones, ${result.options.dropShare * 100} % dropping |`,
    `| offered (open loop, ≤ 512 requests in flight) | ${fmt(l.offeredPerSec)} msg/s (${l.offeredMessages} messages, ${l.requests} requests; ${l.offeredLate ?? 0} offered over 1 s late, held back while saturated; ${l.notOfferedSaturated} never offered) |`,
    `| accepted during the load | **${fmt(l.acceptedPerSec)} msg/s** |`,
    `| accepted in all | ${l.acceptedMessages} messages in ${l.acceptedRequests} requests; ${l.retries} retries with the same key; ${l.refused} refused; ${l.abandoned} abandoned |`,
    `| accept latency (first send → 2xx, retries included) | p50 ${fmt(l.acceptP50Ms, 0)} ms, p99 ${fmt(l.acceptP99Ms, 0)} ms |`,
    `| recorded delivered during the load | ${fmt(d.deliveredDuringLoadPerSec)} msg/s |`,
    `| accept → delivered | p50 ${fmt(d.acceptToDeliveredP50Sec, 2)} s, p99 ${fmt(d.acceptToDeliveredP99Sec, 2)} s |`,
    `| settled (all final) after the load | ${fmt(d.settledAfterLoadSec)} s; queues drained ${fmt(d.queueDrainSec ?? 0)} s later |`,
    `| final statuses | ${Object.entries(d.byStatus)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')} |`,
    `| phone drops | ${result.phones.drops} (${result.phones.flaky} flaky phones) |`,
    `| redelivery (L8) | ${r8 ? `${r8.repeats} repeats / ${r8.uniqueIds} unique = ${r8.redeliveryPerMille} ‰` : '—'} |`,
    `| CPU, cores used on average | ${Object.entries(result.cpu.coresUsed)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}; whole machine ${result.cpu.machineBusyCores} of ${result.cpu.cores} |`,
    '',
    '| fault | at s | repair s | intake 2xx again s | dispatch again s | delivery recorded again s |',
    '|---|---|---|---|---|---|',
    ...result.faults.map(
      (f) =>
        `| ${f.fault}${f.note ? ` (${f.note})` : ''} | ${f.injectedAtSec} | ${f.repairSec} | ${f.intakeRecoverySec ?? '—'} | ${f.dispatchRecoverySec ?? '—'} | ${f.deliveryRecoverySec ?? '—'} |`,
    ),
    '',
    '| invariant | holds | counts |',
    '|---|---|---|',
    ...result.invariants.map(
      (i) =>
        `| ${i.id} ${i.title} | ${i.holds ? 'yes' : '**NO**'} | ${Object.entries(i.counts)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}${i.examples.length > 0 ? `; ids ${i.examples.join(', ')}` : ''} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

export function recordInDocs(path: string, result: SoakResult): void {
  insertNewestFirst(path, SOAK_MARKER, toMarkdown(result), '# Reliability');
}
