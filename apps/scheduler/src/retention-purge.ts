import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@smsfleet/config';
import { BatchLoop } from './batch-loop';

/** Rows deleted per statement: small enough that a purge never holds many locks at once. */
export const PURGE_BATCH = 1_000;

/**
 * A table kept for a retention period: one batch of rows past it deleted per run, on the expiry sweep's
 * interval, until a run deletes fewer than a batch. Subclasses say what one batch deletes.
 */
export abstract class RetentionPurge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: BatchLoop;

  protected constructor(
    protected readonly config: AppConfig,
    protected readonly logger: Logger,
    name: string,
  ) {
    this.loop = new BatchLoop({
      name,
      intervalMs: () => this.config.scheduler.expiryIntervalMs,
      batchSize: PURGE_BATCH,
      runOnce: () => this.purgeOnce(),
      logger,
    });
  }

  /** Deletes one batch past its retention; returns how many. */
  abstract purgeOnce(): Promise<number>;

  onApplicationBootstrap(): void {
    this.loop.start(this.config.scheduler.expiryIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
