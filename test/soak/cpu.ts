import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const TICKS_PER_SECOND = 100;

/** utime + stime of a process in clock ticks, and its parent's pid; undefined once it is gone. */
function stat(pid: number): { ticks: number; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Busy and total ticks of the whole machine (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const numbers = values.map(Number);
  const idle = numbers[3] + (numbers[4] ?? 0);
  const total = numbers.reduce((sum, n) => sum + n, 0);
  return { busy: total - idle, total };
}

/**
 * Measures where the CPU goes during a run, per component (a component is a set of root pids, with their
 * children, e.g. a PostgreSQL postmaster and its backends), and how busy the whole machine was — so that a
 * missed rate can be blamed on what actually limited it.
 */
export class CpuMeter {
  /** pid → its component, and its ticks when first and last seen */
  private readonly seen = new Map<number, { component: string; first: number; last: number }>();
  private readonly startedAt = Date.now();
  private readonly machineAtStart = machineTicks();
  private timer?: NodeJS.Timeout;
  readonly loadAverageAtStart = loadavg();

  constructor(private readonly roots: () => Record<string, Array<number | undefined>>) {}

  start(everyMs = 2_000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  /** Cores used per component on average, and the machine's busy cores, since `start()`. */
  stop(): {
    coresUsed: Record<string, number>;
    machineBusyCores: number;
    cores: number;
    loadAverage: number[];
  } {
    clearInterval(this.timer);
    this.sample();
    const seconds = (Date.now() - this.startedAt) / 1_000;
    const coresUsed: Record<string, number> = {};
    for (const { component, first, last } of this.seen.values())
      coresUsed[component] = (coresUsed[component] ?? 0) + (last - first) / TICKS_PER_SECOND / seconds;
    for (const name of Object.keys(coresUsed)) coresUsed[name] = Math.round(coresUsed[name] * 100) / 100;
    const machine = machineTicks();
    const busyShare = (machine.busy - this.machineAtStart.busy) / (machine.total - this.machineAtStart.total);
    return {
      coresUsed,
      machineBusyCores: Math.round(busyShare * cpus().length * 100) / 100,
      cores: cpus().length,
      loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
    };
  }

  private sample(): void {
    const owner = new Map<number, string>();
    for (const [component, pids] of Object.entries(this.roots()))
      for (const pid of pids) if (pid) owner.set(pid, component);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      const info = stat(pid);
      if (!info) continue;
      const component = owner.get(pid) ?? owner.get(info.ppid);
      if (!component) continue;
      const known = this.seen.get(pid);
      // A process first seen after the start counts from zero (it started meanwhile, e.g. a restarted app).
      if (known) known.last = info.ticks;
      else this.seen.set(pid, { component, first: this.timer ? 0 : info.ticks, last: info.ticks });
    }
  }
}
