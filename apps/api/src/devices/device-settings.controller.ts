import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CallerService } from '../common/caller.service';
import { ApiError } from '../common/api-error';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { readPace, readSendHours, readSimQuotas } from './device-settings-input';
import { deviceSettingsJson } from './device-views-json';
import { DeviceSettingsService } from './device-settings.service';

/**
 * `POST /v1/devices/:id/settings` (token): `delaybetweeneachsms` (seconds, or a random range `"min-max"`),
 * `window`, `sendhours`, `simquotas` (docs/api.md); any of them.
 */
@Controller('v1/devices')
export class DeviceSettingsController {
  constructor(
    private readonly caller: CallerService,
    private readonly settings: DeviceSettingsService,
  ) {}

  @Post(':id/settings')
  @HttpCode(200)
  async update(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const deviceId = /^\d{1,10}$/.test(id) ? Number(id) : NaN;
    if (!Number.isInteger(deviceId) || deviceId < 1 || deviceId > 2_147_483_647)
      throw ApiError.notFound(`device ${id.slice(0, 20)} not found among your devices`);
    const pace = readPace(params);
    const window = params.optionalInt('window', 1, 1_000);
    const sendHours = readSendHours(params, account.timezone);
    const simQuotas = readSimQuotas(params);
    if (pace === undefined && window === undefined && sendHours === undefined && simQuotas === undefined)
      throw ApiError.validation('give delaybetweeneachsms, window, sendhours and/or simquotas');
    const settings = await this.settings.update(account, deviceId, { pace, window, sendHours, simQuotas });
    return { error: 0, message: 'OK', device_id: deviceId, settings: deviceSettingsJson(settings) };
  }
}
