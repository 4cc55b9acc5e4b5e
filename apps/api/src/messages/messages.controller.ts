import { All, Controller, HttpCode, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { CallerService } from '../common/caller.service';
import { contentHash, idempotencyClaim, readIdempotencyKey } from '../common/idempotency-key';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { ImageUploadService } from '../uploads/image-upload.service';
import { BulkGate } from './bulk-gate';
import { readBulkItems, readSmsData, unwrapDatajson } from './bulk-request';
import { BULK_ANSWER_BUDGET_MS, MessageIntakeService } from './message-intake.service';
import { readMessageFields } from './message-fields';
import { MessageStatusService } from './message-status.service';

const SAVED = 'Sms has been saved successfully';

@Controller('getdata')
export class MessagesController {
  constructor(
    private readonly caller: CallerService,
    private readonly intake: MessageIntakeService,
    private readonly statuses: MessageStatusService,
    private readonly images: ImageUploadService,
    private readonly bulks: BulkGate,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @All('addsms')
  @HttpCode(200)
  async addSms(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    return this.addOne(await this.caller.byTokenOrCredentials(params, request), params, request);
  }

  /** The original service's path for sending with email + pass. */
  @All('smstosend')
  @HttpCode(200)
  async smsToSend(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    return this.addOne(await this.caller.byCredentials(params, request), params, request);
  }

  /** Bulk: up to 10,000 messages, all stored or none (body limits: common/route-limits). */
  @All('addalotofsms')
  @HttpCode(200)
  async addALotOfSms(
    @Params() raw: RequestParams,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // Counted from the request's arrival: receiving and parsing a large body is part of the client's wait.
    const answerBy = performance.now() - reply.elapsedTime + BULK_ANSWER_BUDGET_MS;
    const params = unwrapDatajson(raw);
    const account = await this.caller.byTokenOrCredentials(params, request);
    // Held until the rows are stored, even if the client has gone meanwhile (BulkGate).
    const release = this.bulks.hold(request, account.id);
    try {
      const messages = readBulkItems(
        readSmsData(params),
        account.timezone,
        this.config.messages.maxBodyLength,
      );
      const claim = idempotencyClaim(readIdempotencyKey(request), 'addalotofsms', messages);
      const ids = await this.intake.acceptMany(account, messages, answerBy, claim);
      return { error: 0, message: SAVED, count: ids.length, sms_ids: ids };
    } finally {
      release();
    }
  }

  @All('getsmsstatus')
  @HttpCode(200)
  async getSmsStatus(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const view = await this.statuses.statusOf(
      account,
      params.requiredInt(['sms_id', 'id'], 1, Number.MAX_SAFE_INTEGER),
    );
    return {
      error: 0,
      message: 'Ok',
      sms_id: view.smsId,
      status: view.status,
      status_description: view.title,
    };
  }

  /** With a `file`, the stored image's public URL becomes the body (after every other field is checked). */
  private async addOne(account: Account, params: RequestParams, request: FastifyRequest) {
    const key = readIdempotencyKey(request);
    const file = params.get('file');
    const image = file === undefined ? undefined : this.images.check(file.value);
    const fields = readMessageFields(params, account.timezone, this.config.messages.maxBodyLength, !!image);
    const claim = idempotencyClaim(key, 'addsms', { ...fields, image: image && contentHash(image.data) });
    if (image) {
      // Checked before storing, so that a refused request leaves no file behind.
      await this.intake.assertOwnTarget(account, fields);
      fields.body = await this.images.store(account, image);
    }
    return this.saved(await this.intake.accept(account, fields, claim));
  }

  private saved(ids: number[]) {
    return ids.length === 1
      ? { error: 0, sms_id: ids[0], message: SAVED }
      : { error: 0, sms_id: ids[0], sms_ids: ids, message: SAVED };
  }
}
