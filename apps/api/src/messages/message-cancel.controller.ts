import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { CancelSelection } from '@smsfleet/persistence';
import { checkArray, checkInt, countParts, InvalidInput } from '@smsfleet/validation';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { parseClientDate } from './client-date';
import { CancelResult, MessageCancelService } from './message-cancel.service';
import { PoolsService } from '../pools/pools.service';
import { MessageIntakeService } from './message-intake.service';

/** Ids one cancel may list. */
export const CANCEL_MAX_IDS = 1_000;
const MAX_ID = Number.MAX_SAFE_INTEGER;
const MAX_DEVICE_ID = 2_147_483_647;
/** Names a client may guess for a filter we spell otherwise: refused with the right name, never ignored. */
const MISNAMED_FILTERS: Record<string, string> = { pool: 'pool_id' };

/**
 * `POST /v1/messages/cancel` and `POST /v1/messages/:id/reschedule` (token or dashboard session): change
 * messages no phone has taken yet (docs/api.md, ADR 2211). Another account's messages are not found.
 */
@Controller('v1/messages')
export class MessageCancelController {
  constructor(
    private readonly caller: CallerService,
    private readonly service: MessageCancelService,
    private readonly intake: MessageIntakeService,
    private readonly pools: PoolsService,
  ) {}

  @Post('cancel')
  @HttpCode(200)
  async cancel(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const selection = readSelection(params);
    if (!('ids' in selection) && selection.deviceId !== undefined)
      await this.intake.assertOwnDevices(account, [selection.deviceId]);
    if (!('ids' in selection) && selection.poolId !== undefined)
      await this.pools.assertOwnPool(account, selection.poolId);
    const { outcomes, more } = await this.service.cancel(account, selection);
    const counts: Record<CancelResult, number> = { cancelled: 0, taken: 0, final: 0, not_found: 0 };
    for (const outcome of outcomes) counts[outcome.result]++;
    return { error: 0, message: 'OK', ...counts, more, results: outcomes };
  }

  @Post(':id/reschedule')
  @HttpCode(200)
  async reschedule(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const messageId = /^\d{1,16}$/.test(id) ? Number(id) : NaN;
    if (!Number.isSafeInteger(messageId) || messageId < 1)
      throw ApiError.notFound(`message ${id.slice(0, 20)} not found among your messages`);
    const text = params.requiredString(['timetosend', 'time_to_send'], 40);
    const done = await this.service.reschedule(account, messageId, readTime(text, account.timezone));
    return {
      error: 0,
      message: 'OK',
      id: done.id,
      time_to_send: done.timeToSend.toISOString(),
      valid_until: done.validUntil.toISOString(),
      queued: done.queued,
    };
  }
}

/** `ids` (a list, or numbers separated by commas), or filters that all must match; never both. */
function readSelection(params: RequestParams): CancelSelection {
  for (const [name, right] of Object.entries(MISNAMED_FILTERS))
    if (params.has(name)) throw ApiError.validation(`${name} is not a cancel filter; give ${right}`);
  const idsParam = params.get('ids', 'id');
  const filters = {
    deviceId: params.optionalInt(['device_id', 'deviceid', 'deviceId'], 1, MAX_DEVICE_ID),
    poolId: params.optionalInt(['pool_id', 'poolid', 'poolId'], 1, MAX_DEVICE_ID),
    customerId: params.optionalInt(['customer_id', 'customerid', 'customerId'], 0, Number.MAX_SAFE_INTEGER),
    newsletterId: params.optionalInt(['newsletter_id', 'newsletterid', 'newsletterId'], 1, MAX_DEVICE_ID),
  };
  const filtered = Object.values(filters).some((value) => value !== undefined);
  if (idsParam !== undefined) {
    if (filtered)
      throw ApiError.validation(
        'give either ids or filters (device_id, pool_id, customer_id, newsletter_id), not both',
      );
    return { ids: readIds(idsParam.value) };
  }
  if (!filtered)
    throw ApiError.validation(
      'give ids, or at least one filter: device_id, pool_id, customer_id, newsletter_id',
    );
  return filters;
}

function readIds(value: unknown): number[] {
  let list: unknown[];
  if (typeof value === 'string') {
    const text = value.trim();
    if (countParts(text, ',', CANCEL_MAX_IDS + 1) > CANCEL_MAX_IDS)
      throw new InvalidInput('ids', `ids has more than ${CANCEL_MAX_IDS} items`);
    list = text === '' ? [] : text.split(',').map((part) => part.trim());
  } else if (typeof value === 'number') list = [value];
  else list = checkArray(value, 'ids', { max: CANCEL_MAX_IDS });
  if (list.length === 0) throw new InvalidInput('ids', 'ids needs at least one message id');
  return [
    ...new Set(list.map((item) => checkInt(item, 'ids', { min: 1, max: MAX_ID, numbersAsText: true }))),
  ];
}

/** An ISO 8601 time with its offset (`2026-12-06T09:00:00.250Z`), or addsms's format in the account's zone. */
function readTime(text: string, timezone: string): Date | undefined {
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(text.trim())) {
    const parsed = DateTime.fromISO(text.trim(), { setZone: true });
    if (parsed.isValid && parsed.year >= 1970 && parsed.year <= 9999) return parsed.toJSDate();
    throw ApiError.validation(
      `timetosend is not a valid ISO 8601 time (got ${JSON.stringify(text.slice(0, 40))})`,
    );
  }
  return parseClientDate(text, timezone, 'timetosend');
}
