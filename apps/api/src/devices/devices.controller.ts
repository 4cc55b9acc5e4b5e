import { All, Controller, Header, HttpCode, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { parseCallerZone } from '../common/caller-zone';
import { CallerService } from '../common/caller.service';
import { ListingGate } from '../common/listing-gate';
import { Params } from '../common/params.decorator';
import { phpDate } from '../common/php-date';
import { RequestParams } from '../common/request-params';
import { deviceJson } from './device-views-json';
import { DeviceViewsService } from './device-views.service';

@Controller('getdata')
export class DevicesController {
  constructor(
    private readonly caller: CallerService,
    private readonly devices: DeviceViewsService,
    private readonly gate: ListingGate,
  ) {}

  /** Keyed by id in id order; written as text so that the order holds on the wire. */
  @All('getalldevices')
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  async getAllDevices(@Params() params: RequestParams, @Req() request: FastifyRequest): Promise<string> {
    const account = await this.caller.byToken(params, request);
    const zone = parseCallerZone(params.optionalString(['timezone', 'tz'], 64), account.timezone);
    const devices = await this.gate.run(account, () => this.devices.all(account));
    const members = devices.map((device) => `"${device.id}":${JSON.stringify(deviceJson(device, zone))}`);
    return `{"error":0,"message":"OK","count":${devices.length},"device":{${members.join(',')}}}`;
  }

  @All('getdevicestatus')
  @HttpCode(200)
  async getDeviceStatus(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const zone = parseCallerZone(params.optionalString(['timezone', 'tz'], 64), account.timezone);
    const device = await this.devices.one(
      account,
      params.requiredInt(['device_id', 'deviceid', 'deviceId'], 1, 2_147_483_647),
    );
    return {
      error: 0,
      message: 'OK',
      online: device.online,
      device_id: device.id,
      lastseen: phpDate(device.lastSeen, zone),
      diffseconds: Math.max(0, Math.floor((Date.now() - device.lastSeen.getTime()) / 1_000)),
      title: device.title,
    };
  }
}
