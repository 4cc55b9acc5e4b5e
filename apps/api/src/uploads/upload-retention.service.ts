import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { FILE_STORAGE, FileStorage } from './file-storage';

/** Uploads deleted per transaction. */
const BATCH = 100;

/**
 * Deletes uploads older than UPLOAD_RETENTION_DAYS: file and row together, in batches. Run by the API,
 * which holds the local driver's directory (the scheduler may run on another host); replicas share the
 * work through SKIP LOCKED. A file that cannot be deleted keeps its row, and is tried again next time.
 */
@Injectable()
export class UploadRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UploadRetentionService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((error: Error) => this.logger.warn({ err: error }, 'upload retention sweep failed'))
        .finally(() => (this.running = undefined));
    }, this.config.uploads.sweepIntervalMs);
    this.timer.unref();
  }

  /** Deletes every upload past its retention; answers how many. */
  async sweep(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = await this.db.transaction(async (tx) => {
        const due: Array<{ id: number; key: string }> = await tx.query(
          `SELECT id, key FROM uploads WHERE created_at < now() - make_interval(days => $1)
            ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [this.config.uploads.retentionDays, BATCH],
        );
        const gone: number[] = [];
        for (const upload of due) {
          try {
            await this.storage.delete(upload.key);
            gone.push(upload.id);
          } catch (error) {
            this.logger.warn({ err: error, key: upload.key }, 'upload past its retention not deleted');
          }
        }
        await tx.query(`DELETE FROM uploads WHERE id = ANY($1::bigint[])`, [gone]);
        return { due: due.length, gone: gone.length };
      });
      deleted += batch.gone;
      if (batch.due < BATCH || batch.gone === 0) break;
    }
    if (deleted > 0) this.logger.log({ count: deleted }, 'uploads past their retention deleted');
    return deleted;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
