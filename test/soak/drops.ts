import { SimulatedPhone } from '../../tools/simulator/simulated-phone';

const OFFLINE_MS = [2_000, 8_000];
const ONLINE_MS = [5_000, 30_000];

const between = ([min, max]: number[]) => min + Math.random() * (max - min);

/**
 * A share of the phones loses its network at random throughout a run (F8, docs/reliability.md): offline for a
 * few seconds, online for a while, again and again, each phone on its own clock.
 */
export class RandomDrops {
  drops = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  readonly flaky: SimulatedPhone[];

  constructor(phones: SimulatedPhone[], share: number) {
    this.flaky = phones
      .filter((_, index) => index % Math.round(1 / share) === 0)
      .slice(0, Math.round(phones.length * share));
  }

  start(): void {
    for (const phone of this.flaky) this.later(between(ONLINE_MS), () => this.drop(phone));
  }

  /** Stops dropping and brings every phone back online. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const phone of this.flaky) if (!phone.connected) phone.restoreConnection();
  }

  get offline(): number {
    return this.flaky.filter((phone) => !phone.connected).length;
  }

  private drop(phone: SimulatedPhone): void {
    this.drops++;
    phone.dropConnection();
    this.later(between(OFFLINE_MS), () => {
      phone.restoreConnection();
      this.later(between(ONLINE_MS), () => this.drop(phone));
    });
  }

  private later(ms: number, action: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) action();
    }, ms);
    this.timers.add(timer);
  }
}
