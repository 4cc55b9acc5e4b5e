import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Account, AccountService } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { csrfTokenMatches, SessionService } from '../session/session.service';
import { CSRF_HEADER, sessionSecretOf } from '../session/session-cookie';
import { ApiError } from './api-error';
import { RateLimiter } from './rate-limiter';
import { RequestParams } from './request-params';

/** Who is calling: by `token` (parameter or `Authorization: Bearer`), or by `email` + `pass` where allowed. */
@Injectable()
export class CallerService {
  constructor(
    private readonly accounts: AccountService,
    private readonly limiter: RateLimiter,
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async byToken(params: RequestParams, request: FastifyRequest): Promise<Account> {
    const token = params.optionalString('token', 200) ?? bearerToken(request);
    const sessionSecret = token === undefined ? sessionSecretOf(request) : undefined;
    if (sessionSecret !== undefined) return this.bySession(sessionSecret, request);
    if (token === undefined || token.trim() === '') {
      throw new ApiError('invalid_token', 'token is required (get one with gettoken)');
    }
    const account = await this.accounts.accountForToken(token.trim());
    if (!account)
      throw new ApiError(
        'invalid_token',
        'Token is invalid or has been rotated; get the current one with gettoken',
      );
    return account;
  }

  /**
   * A dashboard session sees what the account's token sees, on every route that takes the token. Its
   * cookie alone never authenticates, whatever the method: the CSRF token must come in its header too.
   */
  private async bySession(secret: string, request: FastifyRequest): Promise<Account> {
    const presented = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(secret, typeof presented === 'string' ? presented : undefined))
      throw new ApiError(
        'invalid_token',
        `a session's request needs its ${CSRF_HEADER} header (GET /v1/session answers it)`,
      );
    const account = await this.sessions.accountOf(secret);
    if (!account) throw new ApiError('invalid_token', 'the session has ended; sign in again');
    return account;
  }

  /**
   * Password checks are rate limited per client IP (every check: each costs a hash) and per email
   * (failures only, so that a client sending with email + pass is not limited by its own traffic). The
   * email's slot is reserved before the check and given back when the password is right, so concurrent
   * guesses cannot all pass a limit that none of them has counted yet.
   */
  async byCredentials(params: RequestParams, request: FastifyRequest): Promise<Account> {
    const email = params.requiredString(['email', 'login'], 254);
    const pass = params.requiredString(['pass', 'password'], 1_024);
    const limits = this.config.api.rateLimits;
    await this.limiter.hit('credentials-ip', request.ip, limits.credentialsPerIp);
    const failure = await this.limiter.reserve(
      'failed-login-email',
      email.trim().toLowerCase(),
      limits.failedLoginsPerEmail,
    );
    // Only a wrong password keeps the slot (a database error is no failed login).
    const account = await this.accounts.verifyCredentials(email, pass).catch(async (error: unknown) => {
      await failure.release();
      throw error;
    });
    if (!account) throw new ApiError('invalid_credentials', 'Login or password incorrect');
    await failure.release();
    return account;
  }

  /** Token when one is given, else email + pass. */
  async byTokenOrCredentials(params: RequestParams, request: FastifyRequest): Promise<Account> {
    if (params.has('token') || bearerToken(request) !== undefined || !params.has('email', 'login')) {
      return this.byToken(params, request);
    }
    return this.byCredentials(params, request);
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}
