import { All, Controller, Header, HttpCode, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CallerService } from '../common/caller.service';
import { ListingGate } from '../common/listing-gate';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { readMessageFilter } from './message-filter';
import { messageListJson } from './message-list-json';
import { MessageListService } from './message-list.service';

@Controller('getdata')
export class MessageListController {
  constructor(
    private readonly caller: CallerService,
    private readonly list: MessageListService,
    private readonly gate: ListingGate,
  ) {}

  /** Answered as JSON text written in the requested order (see messageListJson). */
  @All('getallsms')
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  async getAllSms(@Params() params: RequestParams, @Req() request: FastifyRequest): Promise<string> {
    const account = await this.caller.byToken(params, request);
    const filter = readMessageFilter(params, account.timezone);
    return this.gate.run(account, async () => {
      if (filter.onlyCount) {
        return JSON.stringify({ error: 0, message: 'Ok', count: await this.list.count(account, filter) });
      }
      const [count, rows] = await Promise.all([
        this.list.count(account, filter),
        this.list.page(account, filter),
      ]);
      return messageListJson(count, rows, filter.zone);
    });
  }
}
