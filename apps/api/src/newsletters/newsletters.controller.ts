import { All, Controller, HttpCode, Inject, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { isSimSlot } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { idempotencyClaim, readIdempotencyKey } from '../common/idempotency-key';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { parseNewsletterTime, parseTagIds } from './newsletter-input';
import { NewsletterService } from './newsletter.service';

const MAX_ID = 2_147_483_647;

@Controller('getdata')
export class NewslettersController {
  constructor(
    private readonly caller: CallerService,
    private readonly newsletters: NewsletterService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The document reads the id back as `paket_id`, one SDK as `paket`: both are answered. */
  @All(['savepaket', 'createpaket'])
  @HttpCode(200)
  async savePaket(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const key = readIdempotencyKey(request);
    const sim = params.optionalInt('sim', 0, 5) ?? 0;
    if (!isSimSlot(sim)) throw ApiError.validation(`sim must be 0–5 (got ${sim})`);
    const input = {
      title: params.requiredString('title', 255).trim(),
      deviceId: params.requiredInt(['device_id', 'deviceid', 'deviceId'], 1, MAX_ID),
      body: params.requiredString('body', this.config.messages.maxBodyLength),
      tagIds: parseTagIds(params.requiredString(['tags', 'tag_ids'], 20_000)),
      sim,
      timeToSend: parseNewsletterTime(
        params.optionalString(['time_to_send', 'timetosend'], 40),
        account.timezone,
      ),
    };
    const id = await this.newsletters.create(account, input, idempotencyClaim(key, 'savepaket', input));
    return { error: 0, message: 'OK', paket_id: id, paket: id };
  }
}
