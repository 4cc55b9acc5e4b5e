import { Controller, Get, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isFailureStatus } from '@smsfleet/contracts';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { ContactListsRepository } from './contact-lists.repository';

const NEWSLETTERS_LISTED = 100;

/**
 * Reading what savetag, savecontact and savepaket wrote: `GET /v1/tags`, `/v1/contacts` (by id,
 * `after` + `limit`, optionally one `tag_id`), `/v1/newsletters` (the latest, with their progress).
 */
@Controller('v1')
export class ContactListsController {
  constructor(
    private readonly caller: CallerService,
    private readonly lists: ContactListsRepository,
  ) {}

  @Get('tags')
  async tags(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', tags: await this.lists.tags(account) };
  }

  @Get('contacts')
  async contacts(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const limit = params.optionalInt('limit', 1, 1_000) ?? 100;
    const rows = await this.lists.contacts(
      account,
      params.optionalInt(['tag_id', 'ctag_id'], 1, 2_147_483_647),
      params.optionalInt('after', 0, 2_147_483_647) ?? 0,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    return {
      error: 0,
      message: 'OK',
      contacts: page,
      next_after: rows.length > limit ? page[page.length - 1].id : null,
    };
  }

  @Get('newsletters')
  async newsletters(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const rows = await this.lists.newsletters(account, NEWSLETTERS_LISTED);
    const progress = await this.lists.newsletterProgress(
      account,
      rows.map((row) => row.id),
    );
    return {
      error: 0,
      message: 'OK',
      newsletters: rows.map((row) => {
        const counts = { waiting: 0, in_progress: 0, delivered: 0, failed: 0 };
        for (const item of progress.filter((p) => p.newsletter_id === row.id)) {
          const key =
            item.status === 7
              ? 'delivered'
              : isFailureStatus(item.status)
                ? 'failed'
                : item.status === 1 || item.status === 3
                  ? 'waiting'
                  : 'in_progress';
          counts[key] += item.count;
        }
        return {
          id: row.id,
          title: row.title,
          body: row.body,
          device_id: row.device_id,
          sim: row.sim,
          tag_ids: row.tag_ids,
          time_to_send: row.time_to_send.toISOString(),
          expanded: row.expanded_at !== null,
          message_count: row.message_count,
          progress: counts,
        };
      }),
    };
  }
}
