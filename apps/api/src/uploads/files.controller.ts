import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { FILE_STORAGE, FileStorage } from './file-storage';
import { CONTENT_TYPE_BY_EXTENSION } from './image-type';
import { LocalFileStorage } from './local-file-storage';

const STORED_NAME = /^[0-9a-f-]{36}\.(jpg|png|webp|gif)$/;

/** Serves the local driver's files (the S3 driver's files are served by the bucket). */
@Controller('files')
export class FilesController {
  constructor(@Inject(FILE_STORAGE) private readonly storage: FileStorage) {}

  @Get(':name')
  async file(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    const match = STORED_NAME.exec(name);
    if (!(this.storage instanceof LocalFileStorage) || !match) throw new NotFoundException();
    const path = this.storage.pathOf(name);
    const found = await stat(path).catch(() => undefined);
    if (!found?.isFile()) throw new NotFoundException();
    await reply
      .header('content-type', CONTENT_TYPE_BY_EXTENSION[match[1] as keyof typeof CONTENT_TYPE_BY_EXTENSION])
      .header('content-length', found.size)
      .header('x-content-type-options', 'nosniff')
      // Recipients' apps and pages may show the picture: it is public by design (an unguessable URL).
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(createReadStream(path));
  }
}
