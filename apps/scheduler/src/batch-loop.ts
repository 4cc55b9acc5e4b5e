import { Logger } from '@nestjs/common';

export interface BatchLoopOptions {
  /** What the loop does, for its log line. */
  name: string;
  /** Read at each pause (the configuration is injected after the loop is built). */
  intervalMs: () => number;
  /** A full batch means more may be waiting: run again at once. */
  batchSize: number;
  /** Handles one batch; returns how many items it took. */
  runOnce: () => Promise<number>;
  logger: Logger;
}

/**
 * A scheduler task: batches until a short one, then a pause, for ever; a failed round is logged and retried
 * after the pause. `stop()` waits for the round in progress, so shutdown never cuts a batch in half.
 */
export class BatchLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: BatchLoopOptions) {}

  start(firstDelayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.untilShortBatch()
        .catch((error: Error) =>
          this.options.logger.warn({ err: error }, `${this.options.name} failed; retrying`),
        )
        .finally(() => this.start(this.options.intervalMs()));
    }, firstDelayMs);
  }

  private async untilShortBatch(): Promise<void> {
    while (!this.stopped && (await this.options.runOnce()) === this.options.batchSize);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
