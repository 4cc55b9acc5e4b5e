import { All, Controller, HttpCode, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AccountService } from '@smsfleet/auth';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';

@Controller('getdata')
export class TokenController {
  constructor(
    private readonly caller: CallerService,
    private readonly accounts: AccountService,
  ) {}

  /** The account's current token — the same on every call until rotated, so calling it never breaks a client. */
  @All('gettoken')
  @HttpCode(200)
  async getToken(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byCredentials(params, request);
    return { error: 0, message: 'OK', token: await this.accounts.currentToken(account.id) };
  }
}
