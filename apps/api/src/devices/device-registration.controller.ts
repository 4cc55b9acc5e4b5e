import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { CallerService } from '../common/caller.service';
import { RateLimiter } from '../common/rate-limiter';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { DeviceRegistrationService } from './device-registration.service';
import { parseSimInfo } from './sim-info';

/** Phone registration (docs/device-protocol.md §1): returns the id and secret the phone connects with. */
@Controller('v1/devices')
export class DeviceRegistrationController {
  constructor(
    private readonly caller: CallerService,
    private readonly registration: DeviceRegistrationService,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('register')
  @HttpCode(201)
  async register(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    await this.limiter.hit('register-ip', request.ip, this.config.api.rateLimits.registrationsPerIp);
    const account = await this.caller.byTokenOrCredentials(params, request);
    const device = await this.registration.register(account, {
      title: params.optionalString('title', 255) ?? '',
      imei: params.optionalString('imei', 64),
      serialNumber: params.optionalString(['serialnumber', 'serialNumber'], 128),
      appVersion: params.optionalString(['appversion', 'appVersion'], 64),
      simInfo: parseSimInfo(params.get('siminfo')?.value),
    });
    return { error: 0, message: 'OK', device_id: device.deviceId, device_secret: device.secret };
  }
}
