import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'smsfleet-signature';
export const EVENT_ID_HEADER = 'smsfleet-event-id';
export const SECRET_PREFIX = 'whsec_';
/** Default replay window of verifySignature (and of the verification code in docs/webhooks.md). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new signing secret: `whsec_` + 32 random bytes, base64url. The whole string is the HMAC key. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Hex HMAC-SHA256 of `<t>.<raw body>` with `secret` (its UTF-8 bytes, prefix included). */
export function computeSignature(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * The `smsfleet-signature` value: `t=<unix seconds>,v1=<hex>` with one v1 per secret. During a rotation's
 * grace period both the new and the old secret sign, so a receiver holding either verifies.
 */
export function signatureHeader(
  rawBody: string | Buffer,
  secrets: readonly string[],
  timestamp: number,
): string {
  if (secrets.length === 0) throw new Error('no signing secret');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error('timestamp must be unix seconds');
  return [
    `t=${timestamp}`,
    ...secrets.map((secret) => `v1=${computeSignature(secret, timestamp, rawBody)}`),
  ].join(',');
}

/** Both headers of a delivery, signed at `now`. */
export function signedHeaders(
  eventId: string,
  rawBody: string | Buffer,
  secrets: readonly string[],
  now: Date = new Date(),
): Record<typeof SIGNATURE_HEADER | typeof EVENT_ID_HEADER, string> {
  return {
    [SIGNATURE_HEADER]: signatureHeader(rawBody, secrets, Math.floor(now.getTime() / 1000)),
    [EVENT_ID_HEADER]: eventId,
  };
}

export type VerifyResult =
  { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'outside_tolerance' | 'no_match' };

/**
 * What a receiver does (and our tests, and the "test event" of the routes): parse the header, refuse a
 * timestamp further than `toleranceSeconds` from `now` either way (replays of an old delivery), and accept
 * when any v1 matches any of `secrets`, compared in constant time.
 */
export function verifySignature(
  header: string | undefined,
  rawBody: string | Buffer,
  secrets: readonly string[],
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
  now: Date = new Date(),
): VerifyResult {
  if (!header || header.length > 4096) return { ok: false, reason: 'malformed' };
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(Math.floor(now.getTime() / 1000) - timestamp) > toleranceSeconds)
    return { ok: false, reason: 'outside_tolerance' };
  for (const secret of secrets) {
    const expected = Buffer.from(computeSignature(secret, timestamp, rawBody), 'hex');
    for (const candidate of candidates)
      if (timingSafeEqual(expected, candidate)) return { ok: true, timestamp };
  }
  return { ok: false, reason: 'no_match' };
}
