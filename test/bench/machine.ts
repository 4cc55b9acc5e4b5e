import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import IORedis from 'ioredis';
import { Client } from 'pg';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
  packages: Record<string, string>;
}

function packageVersion(name: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(databaseUrl: string, redisUrl: string): Promise<MachineInfo> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  const postgres = (await pg.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  await pg.end();
  const redis = new IORedis(redisUrl);
  const info = await redis.info('server');
  await redis.quit();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    packages: Object.fromEntries(
      ['bullmq', 'socket.io', 'typeorm', 'fastify'].map((name) => [name, packageVersion(name)]),
    ),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where that is not readable. */
export function cpuSecondsOf(pid: number | undefined): number {
  try {
    // After the command name: state is field 3, utime and stime are fields 14 and 15, in USER_HZ (100) ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Nanoseconds a thread spent on a CPU and runnable but waiting for one, and how often it was scheduled. */
export interface SchedStat {
  cpuNs: number;
  waitNs: number;
  slices: number;
}

function readSchedStat(path: string): SchedStat | undefined {
  try {
    const [cpuNs, waitNs, slices] = readFileSync(path, 'utf8').trim().split(' ').map(Number);
    return { cpuNs, waitNs, slices };
  } catch {
    return undefined;
  }
}

/** A process's main thread (its event loop), from /proc/<pid>/schedstat; undefined where not readable. */
export function schedStatOf(pid: number | undefined): SchedStat | undefined {
  return pid === undefined ? undefined : readSchedStat(`/proc/${pid}/schedstat`);
}

/** Every thread of every process on the machine: per process (threads summed), with its command name. */
export interface MachineSample {
  total: SchedStat;
  processes: Map<number, { command: string; stat: SchedStat }>;
  at: number;
}

/**
 * How much the CPUs worked and how long runnable threads waited for one, summed over every thread on the
 * machine. Threads that end between two samples are missing from the later one, so take samples around a
 * phase in which the system's processes live throughout.
 */
export function machineSchedStat(): MachineSample {
  const sample: MachineSample = {
    total: { cpuNs: 0, waitNs: 0, slices: 0 },
    processes: new Map(),
    at: Date.now(),
  };
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return sample; // no /proc (not Linux): the figures built on it read NaN
  }
  for (const pid of pids) {
    let threads: string[];
    let command: string;
    try {
      threads = readdirSync(`/proc/${pid}/task`);
      command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const sum: SchedStat = { cpuNs: 0, waitNs: 0, slices: 0 };
    for (const tid of threads) {
      const stat = readSchedStat(`/proc/${pid}/task/${tid}/schedstat`);
      if (!stat) continue;
      sum.cpuNs += stat.cpuNs;
      sum.waitNs += stat.waitNs;
      sum.slices += stat.slices;
    }
    sample.processes.set(Number(pid), { command, stat: sum });
    sample.total.cpuNs += sum.cpuNs;
    sample.total.waitNs += sum.waitNs;
    sample.total.slices += sum.slices;
  }
  return sample;
}

/**
 * Who used the CPUs between two samples, in % of one core, biggest first: the processes named in `names`
 * by those names, every other one by its command (all PostgreSQL backends together, for instance).
 */
export function cpuUsersBetween(
  before: MachineSample,
  after: MachineSample,
  names: Record<string, number | undefined>,
  top = 6,
): string {
  const nameOf = new Map(Object.entries(names).map(([name, pid]) => [pid, name]));
  const usage = new Map<string, number>();
  for (const [pid, { command, stat }] of after.processes) {
    const used = stat.cpuNs - (before.processes.get(pid)?.stat.cpuNs ?? 0);
    const name = nameOf.get(pid) ?? command;
    usage.set(name, (usage.get(name) ?? 0) + used);
  }
  const wallNs = (after.at - before.at) * 1e6;
  return [...usage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ns]) => `${name} ${Math.round((ns / wallNs) * 100)} %`)
    .join(', ');
}

/** What CPU contention looked like between two samples. */
export interface Contention {
  /** Share of the machine's CPU time that was used, 0–1. */
  busyShare: number;
  /** Threads that were runnable but waiting for a CPU, on average over the phase. */
  waitingThreads: number;
}

export function contentionBetween(before: MachineSample, after: MachineSample): Contention {
  const wallNs = (after.at - before.at) * 1e6;
  if (after.processes.size === 0) return { busyShare: NaN, waitingThreads: NaN };
  return {
    busyShare: Math.min(1, (after.total.cpuNs - before.total.cpuNs) / (wallNs * cpus().length)),
    waitingThreads: Math.max(0, (after.total.waitNs - before.total.waitNs) / wallNs),
  };
}

/** Average wait for a CPU each time the thread became runnable, in ms, between two samples of it. */
export function waitPerWakeupMs(before: SchedStat | undefined, after: SchedStat | undefined): number {
  if (!before || !after || after.slices <= before.slices) return NaN;
  return (after.waitNs - before.waitNs) / (after.slices - before.slices) / 1e6;
}

/** CPU ms a process (every thread) used between two machine samples; NaN if it is missing from either. */
export function cpuMsBetween(before: MachineSample, after: MachineSample, pid: number | undefined): number {
  const start = pid === undefined ? undefined : before.processes.get(pid);
  const end = pid === undefined ? undefined : after.processes.get(pid);
  return start && end ? (end.stat.cpuNs - start.stat.cpuNs) / 1e6 : NaN;
}

/** CPU ms every thread on the machine used between two samples (threads that ended meanwhile are missed). */
export function machineCpuMsBetween(before: MachineSample, after: MachineSample): number {
  return after.processes.size === 0 ? NaN : (after.total.cpuNs - before.total.cpuNs) / 1e6;
}
