/**
 * Bounds how many queue calls of all sessions are in flight at once; the rest wait here, in order.
 *
 * Without it, a dispatcher draining a backlog keeps one Redis call per window slot outstanding (1,000
 * phones × window 10). Its event loop is then saturated with their answers: every turn parses hundreds of
 * them, and whatever arrives next, an urgent message's fetch included, queues behind a full turn. A few
 * dozen calls in flight keep Redis as busy as a thousand do, and keep each turn short. Urgent calls skip
 * the line (they may exceed the bound), so a bulk drain cannot hold up an OTP.
 */
export class CallGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  get inFlight(): number {
    return this.running;
  }

  /**
   * Runs `call` when a slot is free (at once if `urgent`). `onQueued` receives a function that lets a call
   * waiting in line go at once, for when the caller learns meanwhile that it is now urgent.
   */
  async run<T>(call: () => Promise<T>, urgent = false, onQueued?: (goNow: () => void) => void): Promise<T> {
    if (urgent || this.running < this.limit) this.running++;
    // A slot is handed over by the call that frees it (see below), so nobody overtakes the line.
    else
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        onQueued?.(() => {
          const index = this.waiting.indexOf(resolve);
          if (index < 0) return;
          this.waiting.splice(index, 1);
          this.running++;
          resolve();
        });
      });
    try {
      return await call();
    } finally {
      const next = this.running <= this.limit ? this.waiting.shift() : undefined;
      if (next) next();
      else this.running--;
    }
  }
}
