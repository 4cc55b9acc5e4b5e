import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS, webhookFields } from './webhook-input';
import { deliveryView, webhookView, WebhooksService } from './webhooks.service';

const DELIVERY_STATES = ['pending', 'failed', 'delivered', 'dead'];

/**
 * `/v1/webhooks` (token or dashboard session): subscriptions of the account, their deliveries, rotation
 * of their secret, redelivery and a test event (docs/webhooks.md). Another account's ids are not found.
 */
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly caller: CallerService,
    private readonly webhooks: WebhooksService,
  ) {}

  @Post()
  @HttpCode(200)
  async create(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const { webhook, secret } = await this.webhooks.create(
      account,
      webhookFields(params, this.webhooks.policy),
    );
    return { error: 0, message: 'OK', webhook: { ...webhookView(webhook), secret } };
  }

  @Get()
  async list(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', webhooks: (await this.webhooks.list(account)).map(webhookView) };
  }

  @Get(':id')
  async get(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', webhook: webhookView(await this.webhooks.get(account, webhookId(id))) };
  }

  @Post(':id')
  @HttpCode(200)
  update(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    return this.change(id, params, request);
  }

  @Patch(':id')
  patch(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    return this.change(id, params, request);
  }

  @Delete(':id')
  async delete(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const hook = webhookId(id);
    await this.webhooks.delete(account, hook);
    return { error: 0, message: 'OK', webhook_id: hook };
  }

  @Post(':id/secret')
  @HttpCode(200)
  async rotate(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const hook = webhookId(id);
    const grace = params.optionalInt('grace_seconds', 0, MAX_GRACE_SECONDS) ?? DEFAULT_GRACE_SECONDS;
    const { webhook, secret } = await this.webhooks.rotateSecret(account, hook, grace);
    return { error: 0, message: 'OK', webhook: { ...webhookView(webhook), secret } };
  }

  @Get(':id/deliveries')
  async deliveries(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const limit = params.optionalInt('limit', 1, 100) ?? 50;
    const before = params.optionalInt('before', 1, Number.MAX_SAFE_INTEGER);
    const status = params.optionalString('status', 20);
    if (status !== undefined && !DELIVERY_STATES.includes(status))
      throw ApiError.validation(`status must be one of ${DELIVERY_STATES.join(', ')}`);
    const rows = await this.webhooks.deliveries(account, webhookId(id), before, status, limit + 1);
    const page = rows.slice(0, limit).map(deliveryView);
    return {
      error: 0,
      message: 'OK',
      deliveries: page,
      next_before: rows.length > limit ? page[page.length - 1].id : null,
    };
  }

  @Post(':id/redeliver')
  @HttpCode(200)
  async redeliver(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const deliveryId = params.optionalInt('delivery_id', 1, Number.MAX_SAFE_INTEGER);
    const count = await this.webhooks.redeliver(account, webhookId(id), deliveryId);
    return { error: 0, message: 'OK', redelivered: count };
  }

  @Post(':id/test')
  @HttpCode(200)
  async test(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const eventId = await this.webhooks.test(account, webhookId(id));
    return { error: 0, message: 'OK', event_id: eventId };
  }

  private async change(id: string, params: RequestParams, request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const hook = webhookId(id);
    const row = await this.webhooks.update(account, hook, webhookFields(params, this.webhooks.policy));
    return { error: 0, message: 'OK', webhook: webhookView(row) };
  }
}

/** A path id; anything but a positive int4 is no webhook of anyone's. */
function webhookId(id: string): number {
  const value = /^\d{1,10}$/.test(id) ? Number(id) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > 2_147_483_647)
    throw ApiError.notFound(`webhook ${id.slice(0, 20)} not found among yours`);
  return value;
}
