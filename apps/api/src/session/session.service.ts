import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Account, newSecret, sha256Hex } from '@smsfleet/auth';
import { SessionsRepository } from './sessions.repository';

/** A session ends this long after sign-in, whatever happens meanwhile. */
export const SESSION_LIFETIME_SECONDS = 12 * 3_600;

export interface NewSession {
  secret: string;
  csrfToken: string;
}

/**
 * Dashboard sessions: a random secret in an HTTP-only cookie, stored as its hash. Its CSRF token is a
 * one-way function of the secret: whoever holds the cookie can be told the token again (after a reload),
 * and the token reveals nothing of the cookie. A cookie alone never authenticates: every request of a
 * session carries the token in a header, which another site's page can neither read nor set.
 */
@Injectable()
export class SessionService {
  constructor(private readonly sessions: SessionsRepository) {}

  async open(account: Account): Promise<NewSession> {
    const secret = newSecret();
    await this.sessions.create(
      sha256Hex(secret),
      account.id,
      new Date(Date.now() + SESSION_LIFETIME_SECONDS * 1_000),
    );
    return { secret, csrfToken: csrfTokenOf(secret) };
  }

  /** The session's account, or undefined when it ended (signed out, expired) or never existed. */
  async accountOf(secret: string): Promise<Account | undefined> {
    return this.sessions.accountOf(sha256Hex(secret));
  }

  async close(secret: string): Promise<void> {
    await this.sessions.remove(sha256Hex(secret));
  }
}

export function csrfTokenOf(secret: string): string {
  return sha256Hex(`smsfleet-csrf:${secret}`);
}

export function csrfTokenMatches(secret: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenOf(secret));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
