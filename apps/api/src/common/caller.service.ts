import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Account, AccountService } from '@smsfleet/auth';
import { ApiError } from './api-error';
import { RequestParams } from './request-params';

/** Who is calling: by `token` (parameter or `Authorization: Bearer`), or by `email` + `pass` where allowed. */
@Injectable()
export class CallerService {
  constructor(private readonly accounts: AccountService) {}

  async byToken(params: RequestParams, request: FastifyRequest): Promise<Account> {
    const token = params.optionalString('token', 200) ?? bearerToken(request);
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

  async byCredentials(params: RequestParams): Promise<Account> {
    const email = params.requiredString(['email', 'login'], 254);
    const pass = params.requiredString(['pass', 'password'], 1_024);
    const account = await this.accounts.verifyCredentials(email, pass);
    if (!account) throw new ApiError('invalid_credentials', 'Login or password incorrect');
    return account;
  }

  /** Token when one is given, else email + pass. */
  async byTokenOrCredentials(params: RequestParams, request: FastifyRequest): Promise<Account> {
    if (params.has('token') || bearerToken(request) !== undefined || !params.has('email', 'login')) {
      return this.byToken(params, request);
    }
    return this.byCredentials(params);
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}
