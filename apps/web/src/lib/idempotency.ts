/** A fresh Idempotency-Key: the same for every retry or double click of one request, new for the next one. */
export function newIdempotencyKey(): string {
  return `web-${crypto.randomUUID()}`;
}

/** `<input type="datetime-local">` → the API's `YYYY-MM-DD HH:MM` (read in the account's time zone). */
export function toApiDateTime(local: string): string {
  return local.replace('T', ' ').slice(0, 16);
}
