import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'smsfleet_session';
/** The header every session-authenticated request carries (double submit: a cross-site page cannot read it). */
export const CSRF_HEADER = 'x-csrf-token';

/** The session secret from the Cookie header, if any (a malformed value is simply absent). */
export function sessionSecretOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) {
      const value = rest.join('=');
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * HTTP-only (no script reads it), SameSite=Strict (no other site's page sends it), Secure when the request
 * came over TLS: `request.protocol` believes X-Forwarded-Proto only from proxies API_TRUST_PROXY trusts.
 */
export function sessionCookie(request: FastifyRequest, secret: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

export function expiredSessionCookie(request: FastifyRequest): string {
  return sessionCookie(request, '', 0);
}
