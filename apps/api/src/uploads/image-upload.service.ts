import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { FILE_STORAGE, FileStorage } from './file-storage';
import { detectImageType } from './image-type';

/** An image sent with `addsms`: checked by its content, stored, and answered as its public URL. */
@Injectable()
export class ImageUploadService {
  private readonly logger = new Logger(ImageUploadService.name);

  constructor(@Inject(FILE_STORAGE) private readonly storage: FileStorage) {}

  /** The upload as the multipart plugin hands it over (a Buffer); anything else was not a file. */
  check(file: unknown): { data: Buffer; extension: string; contentType: string } {
    if (!Buffer.isBuffer(file))
      throw ApiError.validation('file must be an image uploaded with multipart/form-data');
    const type = detectImageType(file);
    if (type === undefined)
      throw ApiError.validation('file must be a JPEG, PNG, WebP or GIF image (checked by its content)');
    return { data: file, ...type };
  }

  async store(image: { data: Buffer; extension: string; contentType: string }): Promise<string> {
    // Unguessable names: the URL is public.
    const key = `${randomUUID()}.${image.extension}`;
    try {
      return await this.storage.put(key, image.data, image.contentType);
    } catch (error) {
      this.logger.error({ err: error }, 'file storage failed');
      throw new ApiError('unavailable', 'file storage temporarily unavailable, retry');
    }
  }
}
