import { All, Controller, HttpCode, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isSimSlot, SimSlot } from '@smsfleet/contracts';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { Inject } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { parseClientDate } from './client-date';
import { MessageIntakeService, NewMessages } from './message-intake.service';
import { MessageStatusService } from './message-status.service';
import { parseRecipients } from './recipients';

const SAVED = 'Sms has been saved successfully';
const MAX_ID = 2_147_483_647;

@Controller('getdata')
export class MessagesController {
  constructor(
    private readonly caller: CallerService,
    private readonly intake: MessageIntakeService,
    private readonly statuses: MessageStatusService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @All('addsms')
  @HttpCode(200)
  async addSms(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byTokenOrCredentials(params, request);
    return this.saved(await this.intake.accept(account, this.readNewMessages(params, account)));
  }

  /** The original service's path for sending with email + pass. */
  @All('smstosend')
  @HttpCode(200)
  async smsToSend(@Params() params: RequestParams) {
    const account = await this.caller.byCredentials(params);
    return this.saved(await this.intake.accept(account, this.readNewMessages(params, account)));
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

  private saved(ids: number[]) {
    return ids.length === 1
      ? { error: 0, sms_id: ids[0], message: SAVED }
      : { error: 0, sms_id: ids[0], sms_ids: ids, message: SAVED };
  }

  private readNewMessages(params: RequestParams, account: Account): NewMessages {
    const deviceId = params.requiredInt(['device_id', 'deviceid'], 1, MAX_ID);
    const sendto = params.get('sendto');
    const rawSendto = params.requiredString('sendto', 64 * 1_000);
    const sim = params.optionalInt('sim', 0, 5) ?? 0;
    if (!isSimSlot(sim)) throw ApiError.validation(`sim must be 0–5 (got ${sim})`);
    const timeText = params.optionalString(['timetosend', 'time_to_send'], 40);
    return {
      deviceId,
      recipients: parseRecipients(rawSendto, sendto?.source === 'query'),
      body: params.requiredString('body', this.config.messages.maxBodyLength),
      sim: sim as SimSlot,
      urgent: params.flag('urgent', false),
      customerId: params.optionalInt(['customerid', 'customerId', 'customer_id'], 0, Number.MAX_SAFE_INTEGER),
      timeToSend:
        timeText === undefined ? undefined : parseClientDate(timeText, account.timezone, 'timetosend'),
    };
  }
}
