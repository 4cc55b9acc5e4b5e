import { Provider } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { FILE_STORAGE, FileStorage } from './file-storage';
import { LocalFileStorage } from './local-file-storage';
import { S3FileStorage } from './s3-file-storage';

/** The configured storage driver (STORAGE_DRIVER). */
export const fileStorageProvider: Provider = {
  provide: FILE_STORAGE,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): FileStorage =>
    config.uploads.driver === 's3' && config.uploads.s3 !== undefined
      ? new S3FileStorage(config.uploads.s3)
      : new LocalFileStorage(config.uploads.localDir, config.uploads.publicUrl),
};
