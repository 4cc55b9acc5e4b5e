import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

/** An optional `Idempotency-Key` header, with what makes a replay "the same request". */
export interface IdempotencyClaim {
  key: string;
  endpoint: string;
  fingerprint: string;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/** The header's value, or undefined when absent; anything but 1–200 visible ASCII characters is refused. */
export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY_PATTERN.test(raw))
    throw ApiError.validation('Idempotency-Key must be 1–200 visible ASCII characters');
  return raw;
}

/**
 * The claim for a request whose parsed input is `input`: the fingerprint hashes the input after parsing,
 * so a replay that spells the same request differently (query vs body, aliases) is still the same.
 */
export function idempotencyClaim(
  key: string | undefined,
  endpoint: string,
  input: unknown,
): IdempotencyClaim | undefined {
  if (key === undefined) return undefined;
  const fingerprint = contentHash(Buffer.from(JSON.stringify(input)));
  return { key, endpoint, fingerprint };
}

export function contentHash(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
