import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileStorage } from './file-storage';

/** Files in a local directory, served by the API under `/files/<key>`. */
export class LocalFileStorage implements FileStorage {
  readonly directory: string;

  constructor(
    directory: string,
    private readonly publicUrl: string,
  ) {
    this.directory = resolve(directory);
  }

  async put(key: string, data: Buffer): Promise<string> {
    await mkdir(this.directory, { recursive: true });
    // Written aside and renamed: a reader never sees half a file.
    const partial = join(this.directory, `.${key}.partial`);
    await writeFile(partial, data);
    await rename(partial, this.pathOf(key));
    return `${this.publicUrl}/files/${key}`;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  pathOf(key: string): string {
    return join(this.directory, key);
  }
}
