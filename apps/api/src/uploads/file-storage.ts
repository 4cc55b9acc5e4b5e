/** Where uploaded files go (Immich-style driver): local disk served by the API, or an S3-compatible bucket. */
export interface FileStorage {
  /** Stores `data` under `key` and answers the public URL that fetches it. */
  put(key: string, data: Buffer, contentType: string): Promise<string>;
  /** Deletes what is stored under `key`; a key already gone is no error. */
  delete(key: string): Promise<void>;
}

export const FILE_STORAGE = Symbol('FILE_STORAGE');
