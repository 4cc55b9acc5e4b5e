/** Where uploaded files go (Immich-style driver): local disk served by the API, or an S3-compatible bucket. */
export interface FileStorage {
  /** Stores `data` under `key` and answers the public URL that fetches it. */
  put(key: string, data: Buffer, contentType: string): Promise<string>;
}

export const FILE_STORAGE = Symbol('FILE_STORAGE');
