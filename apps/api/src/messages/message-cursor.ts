import { ApiError } from '../common/api-error';

/**
 * The keyset cursor of /v1/messages: the id of a page's last message, opaque to clients (base64url of
 * `m:<id>`), so a page costs the same at the millionth row as at the first.
 */
export function encodeCursor(lastId: number): string {
  return Buffer.from(`m:${lastId}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const match = /^m:(\d{1,19})$/.exec(
    /^[A-Za-z0-9_-]{1,40}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '',
  );
  const id = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(id) || id < 1)
    throw ApiError.validation(
      'cursor is not one this API answered (take next_cursor from the previous page)',
    );
  return id;
}
