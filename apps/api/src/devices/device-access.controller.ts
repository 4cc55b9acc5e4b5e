import { Controller, Delete, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DeviceRevocation } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { MessageIntakeService } from '../messages/message-intake.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';

/**
 * A stolen or retired phone loses its access (token): `POST /v1/devices/:id/secret` issues a new secret
 * (a socket phone must be set up with it again; an SMSGate app registers again into the same device),
 * `DELETE /v1/devices/:id` removes the device. Either way its phone is cut off at once, on either transport.
 */
@Controller('v1/devices')
export class DeviceAccessController {
  constructor(
    private readonly caller: CallerService,
    private readonly revocation: DeviceRevocation,
    private readonly intake: MessageIntakeService,
  ) {}

  @Post(':id/secret')
  @HttpCode(200)
  async rotateSecret(
    @Param('id') id: string,
    @Params() params: RequestParams,
    @Req() request: FastifyRequest,
  ) {
    const account = await this.caller.byToken(params, request);
    const deviceId = deviceIdOf(id);
    const rotated = await this.revocation.rotateSecret({ deviceId, account: account.id });
    if (rotated === undefined) throw notFound(id);
    // An SMSGate app takes no token by hand: it registers again, taking the device over (docs/phones.md).
    return rotated.kind === 'socket'
      ? { error: 0, message: 'OK', device_id: deviceId, device_secret: rotated.secret }
      : { error: 0, message: 'OK', device_id: deviceId, kind: 'smsgate', awaiting_registration: true };
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const deviceId = deviceIdOf(id);
    const finalised = await this.revocation.remove({ deviceId, account: account.id });
    if (finalised === undefined) throw notFound(id);
    // Other replicas forget it when the signal arrives; this one at once.
    this.intake.forgetDevice(account.id, deviceId);
    return { error: 0, message: 'OK', device_id: deviceId, messages_finalised: finalised };
  }
}

function deviceIdOf(id: string): number {
  const deviceId = /^\d{1,10}$/.test(id) ? Number(id) : NaN;
  if (!Number.isInteger(deviceId) || deviceId < 1 || deviceId > 2_147_483_647) throw notFound(id);
  return deviceId;
}

function notFound(id: string): ApiError {
  return ApiError.notFound(`device ${id.slice(0, 20)} not found among your devices`);
}
