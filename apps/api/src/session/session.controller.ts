import { Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { csrfTokenMatches, csrfTokenOf, SESSION_LIFETIME_SECONDS, SessionService } from './session.service';
import { CSRF_HEADER, expiredSessionCookie, sessionCookie, sessionSecretOf } from './session-cookie';

/**
 * The dashboard's sign-in: email + password (the same checks and limits as gettoken) open a session in
 * an HTTP-only cookie; its CSRF token goes with every later request in the `x-csrf-token` header.
 */
@Controller('v1/session')
export class SessionController {
  constructor(
    private readonly caller: CallerService,
    private readonly sessions: SessionService,
  ) {}

  @Post()
  @HttpCode(200)
  async signIn(
    @Params() params: RequestParams,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const account = await this.caller.byCredentials(params, request);
    const session = await this.sessions.open(account);
    void reply.header('set-cookie', sessionCookie(request, session.secret, SESSION_LIFETIME_SECONDS));
    void reply.header('cache-control', 'no-store');
    return {
      error: 0,
      message: 'OK',
      email: account.email,
      timezone: account.timezone,
      csrf_token: session.csrfToken,
    };
  }

  /**
   * Who is signed in, and the session's CSRF token again (after a reload). The cookie alone suffices: this
   * changes nothing, another site's page never gets the cookie sent (SameSite) nor reads the answer (no CORS).
   */
  @Get()
  async current(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    void reply.header('cache-control', 'no-store');
    const secret = sessionSecretOf(request);
    const account = secret === undefined ? undefined : await this.sessions.accountOf(secret);
    if (secret === undefined || !account) throw new ApiError('invalid_token', 'not signed in');
    return {
      error: 0,
      message: 'OK',
      email: account.email,
      timezone: account.timezone,
      csrf_token: csrfTokenOf(secret),
    };
  }

  /** Sign-out ends the session on the server: its cookie is worthless from now on, wherever it was copied. */
  @Delete()
  @HttpCode(200)
  async signOut(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const secret = sessionSecretOf(request);
    if (secret === undefined) throw new ApiError('invalid_token', 'not signed in');
    const presented = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(secret, typeof presented === 'string' ? presented : undefined))
      throw new ApiError('invalid_token', `sign-out needs the session's ${CSRF_HEADER} header`);
    await this.sessions.close(secret);
    void reply.header('set-cookie', expiredSessionCookie(request));
    return { error: 0, message: 'OK' };
  }
}
