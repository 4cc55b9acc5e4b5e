import { Controller, Get, Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isFinalStatus, statusTitle } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { ListingGate } from '../common/listing-gate';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { decodeCursor, encodeCursor } from './message-cursor';
import { BrowsedMessageRow } from '@smsfleet/persistence';
import { MessageBrowseRepository } from './message-browse.repository';
import { readMessageFilter } from './message-filter';

export const BROWSE_DEFAULT_LIMIT = 50;
export const BROWSE_MAX_LIMIT = 500;
const MAX_POOL_ID = 2_147_483_647;

/**
 * The messages as the dashboard (or a script) pages through them: getallsms's filters, keyset paging by
 * `cursor` (no offset, no count: each page costs the same however deep), ISO 8601 times in UTC.
 */
@Controller('v1/messages')
export class MessageBrowseController {
  constructor(
    private readonly caller: CallerService,
    private readonly messages: MessageBrowseRepository,
    private readonly gate: ListingGate,
  ) {}

  @Get()
  async list(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const filter = readMessageFilter(params, account.timezone);
    // Ours, beside getallsms's filters: another account's pool matches nothing (every predicate has the tenant).
    filter.poolId = params.optionalInt(['pool_id', 'poolid'], 1, MAX_POOL_ID);
    // Newest first unless `order=asc`.
    const order = params.optionalString('order', 4) ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw ApiError.validation('order must be "asc" or "desc"');
    filter.descending = order === 'desc';
    const limit = params.optionalInt('limit', 1, BROWSE_MAX_LIMIT) ?? BROWSE_DEFAULT_LIMIT;
    const after = decodeCursor(params.optionalString('cursor', 64));
    const rows = await this.gate.run(account, () => this.messages.page(account, filter, after, limit));
    const page = rows.slice(0, limit);
    return {
      error: 0,
      message: 'OK',
      messages: page.map(messageJson),
      next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null,
    };
  }

  @Get(':id')
  async one(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const messageId = /^\d{1,16}$/.test(id) ? Number(id) : NaN;
    const row = Number.isSafeInteger(messageId) ? await this.messages.one(account, messageId) : undefined;
    if (!row) throw ApiError.notFound(`message ${id.slice(0, 20)} not found among your messages`);
    const events = await this.messages.events(row.id);
    return {
      error: 0,
      message: 'OK',
      sms: {
        ...messageJson(row),
        history: events.map((event) => ({
          status: event.status,
          status_title: statusTitle(event.status),
          at: event.at.toISOString(),
          recorded_at: event.recorded_at.toISOString(),
          error: event.error,
        })),
      },
    };
  }
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

function messageJson(row: BrowsedMessageRow) {
  return {
    id: Number(row.id),
    sendto: row.sendto,
    body: row.body,
    customer_id: row.customer_id === null ? null : Number(row.customer_id),
    status: row.status,
    status_title: statusTitle(row.status),
    final: isFinalStatus(row.status),
    error: row.status_error,
    device_id: row.device_id,
    pool_id: row.pool_id,
    sim: row.sim,
    urgent: row.urgent,
    newsletter_id: row.newsletter_id,
    created_at: iso(row.created_at),
    time_to_send: iso(row.time_to_send),
    taken_at: iso(row.taken_at),
    sent_at: iso(row.sent_at),
    delivered_at: iso(row.delivered_at),
    failed_at: iso(row.failed_at),
  };
}
