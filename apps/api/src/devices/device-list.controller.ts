import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { DeviceMessageCounts } from '@smsfleet/persistence';
import { DeviceCountsRepository } from './device-counts.repository';
import { DeviceView, DeviceViewsService } from './device-views.service';
import { sendHoursJson, simQuotasJson } from './device-views-json';

/**
 * `GET /v1/devices` and `/v1/devices/:id`: the account's phones with live presence, pace and window,
 * and their messages waiting and sent today (the day in the account's time zone), ISO 8601 times.
 */
@Controller('v1/devices')
export class DeviceListController {
  constructor(
    private readonly caller: CallerService,
    private readonly devices: DeviceViewsService,
    private readonly counts: DeviceCountsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async list(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const [devices, counts] = await Promise.all([
      this.devices.all(account),
      this.counts.of(account, dayStart(account.timezone)),
    ]);
    return {
      error: 0,
      message: 'OK',
      devices: devices.map((device) => this.json(device, counts.get(device.id))),
    };
  }

  @Get(':id')
  async one(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const deviceId = /^\d{1,10}$/.test(id) ? Number(id) : NaN;
    if (!(deviceId >= 1 && deviceId <= 2_147_483_647))
      throw ApiError.notFound(`device ${id.slice(0, 20)} not found among your devices`);
    const device = await this.devices.one(account, deviceId);
    const counts = await this.counts.of(account, dayStart(account.timezone), deviceId);
    return { error: 0, message: 'OK', device: this.json(device, counts.get(deviceId)) };
  }

  private json(device: DeviceView, counts: DeviceMessageCounts | undefined) {
    return {
      id: device.id,
      title: device.title,
      kind: device.kind,
      online: device.online,
      last_seen: device.lastSeen.toISOString(),
      created_at: device.createdAt.toISOString(),
      app_version: device.appVersion,
      sim_info: device.simInfo,
      send_slots: device.sendSlots,
      delaybetweeneachsms: device.delayBetweenSms,
      delaybetweeneachsms_max: device.delayMaxBetweenSms,
      ...sendHoursJson(device.sendHours),
      ...simQuotasJson(device),
      pool_id: device.poolId,
      window: device.window ?? this.config.devices.defaultWindow,
      waiting: counts?.waiting ?? 0,
      sent_today: counts?.sentToday ?? 0,
    };
  }
}

function dayStart(zone: string): Date {
  const now = DateTime.now().setZone(zone);
  return (now.isValid ? now : DateTime.utc()).startOf('day').toJSDate();
}
