import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { ApiError } from '../common/api-error';
import { FILE_STORAGE, FileStorage } from './file-storage';
import { detectImageType } from './image-type';

export interface CheckedImage {
  data: Buffer;
  extension: string;
  contentType: string;
}

/**
 * An image sent with `addsms`: checked by its content, counted against the account's quota, stored, and
 * answered as its public URL. The retention sweep deletes it after UPLOAD_RETENTION_DAYS.
 */
@Injectable()
export class ImageUploadService {
  private readonly logger = new Logger(ImageUploadService.name);

  constructor(
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The upload as the multipart reader hands it over (a Buffer); anything else was not a file. */
  check(file: unknown): CheckedImage {
    if (!Buffer.isBuffer(file))
      throw ApiError.validation('file must be an image uploaded with multipart/form-data');
    const type = detectImageType(file);
    if (type === undefined)
      throw ApiError.validation('file must be a JPEG, PNG, WebP or GIF image (checked by its content)');
    return { data: file, ...type };
  }

  async store(account: Account, image: CheckedImage): Promise<string> {
    // Unguessable names: the URL is public.
    const key = `${randomUUID()}.${image.extension}`;
    await this.reserve(account, key, image.data.length);
    try {
      return await this.storage.put(key, image.data, image.contentType);
    } catch (error) {
      this.logger.error({ err: error }, 'file storage failed');
      await this.db.query(`DELETE FROM uploads WHERE key = $1`, [key]).catch(() => undefined);
      throw new ApiError('unavailable', 'file storage temporarily unavailable, retry');
    }
  }

  /** Counts the upload before it is written; the account's row is locked so that concurrent uploads add up. */
  private async reserve(account: Account, key: string, bytes: number): Promise<void> {
    const quota = this.config.uploads.quotaBytesPerAccount;
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [account.id]);
      const [{ used }]: Array<{ used: number }> = await tx.query(
        `SELECT COALESCE(sum(bytes), 0)::bigint AS used FROM uploads WHERE user_id = $1`,
        [account.id],
      );
      if (used + bytes > quota)
        throw ApiError.validation(
          `uploads of this account would take ${used + bytes} bytes, more than its quota of ${quota}; ` +
            `uploads are deleted ${this.config.uploads.retentionDays} days after they were sent`,
        );
      await tx.query(`INSERT INTO uploads (user_id, key, bytes) VALUES ($1, $2, $3)`, [
        account.id,
        key,
        bytes,
      ]);
    });
  }
}
