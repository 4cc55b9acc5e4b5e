import { Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { IANAZone } from 'luxon';
import { AccountService, PhoneRegistrationTokens } from '@smsfleet/auth';
import { TokenRevocationSignal } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { AccountRepository } from './account.repository';

/**
 * `/v1/account`: the account's time zone (dates in and out of getallsms and addsms), its API token and its
 * phone registration token (show and rotate, as the CLI does).
 */
@Controller('v1/account')
export class AccountController {
  constructor(
    private readonly caller: CallerService,
    private readonly accounts: AccountService,
    private readonly phoneTokens: PhoneRegistrationTokens,
    private readonly repository: AccountRepository,
    private readonly tokenRevocation: TokenRevocationSignal,
  ) {}

  @Get()
  async get(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', email: account.email, timezone: account.timezone };
  }

  @Post()
  @HttpCode(200)
  async update(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const timezone = params.requiredString('timezone', 64).trim();
    if (!IANAZone.isValidZone(timezone))
      throw ApiError.validation(
        `timezone must be a zone name like Europe/Paris (got ${JSON.stringify(timezone)})`,
      );
    await this.repository.setTimezone(account.id, timezone);
    // Every replica's token cache holds the account with its time zone: they look it up again.
    await this.forgetEverywhere(account.id);
    return { error: 0, message: 'OK', email: account.email, timezone };
  }

  @Get('token')
  async token(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', token: await this.accounts.currentToken(account.id) };
  }

  /** The old token stops working on every API replica at once (a Redis signal); sessions keep theirs. */
  @Post('token')
  @HttpCode(200)
  async rotateToken(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const token = await this.accounts.rotateToken(account.id);
    await this.forgetEverywhere(account.id);
    return { error: 0, message: 'OK', token };
  }

  /** This replica at once; the others by the signal, or within API_TOKEN_CACHE_MS without Redis. */
  private async forgetEverywhere(userId: number): Promise<void> {
    this.accounts.forgetAccount(userId);
    await this.tokenRevocation.publish({ userId });
  }

  @Get('phone-token')
  async phoneToken(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', phone_token: await this.phoneTokens.current(account.id) };
  }

  /** Phones already registered keep working; new ones register with the new token. */
  @Post('phone-token')
  @HttpCode(200)
  async rotatePhoneToken(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', phone_token: await this.phoneTokens.rotate(account.id) };
  }
}
