/** Longest Retry-After taken literally (larger values are clamped; the retry policy caps them again). */
const MAX_RETRY_AFTER_MS = 365 * 24 * 3600 * 1000;

/**
 * A `Retry-After` header (RFC 9110 §10.2.3) as milliseconds from `nowMs`: delay-seconds or an HTTP date.
 * Undefined when absent or unreadable; a date in the past means 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // Only date-looking text: Date.parse also reads "1.5" or "12" as dates.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}
