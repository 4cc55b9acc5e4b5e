import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 (hex) of a high-entropy secret: what we store for API tokens and device secrets. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A new 256-bit random secret, URL-safe. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(sha256Hex(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** A key an SMSGate device signs its webhooks with (the app's `webhooks.signing_key`; kept as is). */
export function newSigningKey(): string {
  return randomBytes(24).toString('base64url');
}
