import { Body, Controller, Get, Headers, HttpCode, Patch, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppMessage } from './app-protocol';
import { EventStreams } from './event-streams';
import { IncomingWebhook } from './incoming-webhook';
import { MobileApi } from './mobile-api';
import { MOBILE_PREFIX } from './mobile-errors';
import { MobileLimits } from './mobile-limits';
import { AppRegistrationAnswer, SmsGateDevice, SmsGateDevices } from './smsgate-devices';

type RawRequest = FastifyRequest & { rawBody?: Buffer };

/**
 * The SMSGate Android app's device API ("mobile v1", docs/phones.md) on the dispatcher's port: the app
 * is pointed at `https://HOST/mobile/v1`. Thin: each route passes the limits, authenticates, and hands
 * over to MobileApi.
 */
@Controller(MOBILE_PREFIX.slice(1))
export class MobileController {
  constructor(
    private readonly devices: SmsGateDevices,
    private readonly api: MobileApi,
    private readonly streams: EventStreams,
    private readonly incoming: IncomingWebhook,
    private readonly limits: MobileLimits,
  ) {}

  /** The request's device, once its address and then its device are within their limits. */
  private async device(authorization: string | undefined, request: FastifyRequest): Promise<SmsGateDevice> {
    this.limits.beforeToken(request.ip);
    const device = await this.counted(request, this.devices.authenticate(authorization));
    this.limits.device(device.deviceId);
    return device;
  }

  /** `work`, with a wrong token or signature counted against the request's address. */
  private async counted<T>(request: FastifyRequest, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      await this.limits.failed(request.ip, error);
      throw error;
    }
  }

  @Post('device')
  @HttpCode(201)
  async register(
    @Headers('authorization') authorization: string | undefined,
    @Headers('user-agent') userAgent: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<AppRegistrationAnswer> {
    await this.limits.registration(request.ip);
    return this.counted(request, this.api.register(authorization, body, userAgent));
  }

  @Patch('device')
  @HttpCode(204)
  async updateDevice(
    @Headers('authorization') authorization: string | undefined,
    @Headers('user-agent') userAgent: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.api.updateDevice(await this.device(authorization, request), body, userAgent);
  }

  /** The app reads only `externalIp` (to show it); a token is optional here. */
  @Get('device')
  publicAddress(@Req() request: FastifyRequest): { externalIp: string } {
    this.limits.beforeToken(request.ip);
    return { externalIp: request.ip };
  }

  @Get('message')
  async messages(
    @Headers('authorization') authorization: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<AppMessage[]> {
    return this.api.messages(await this.device(authorization, request));
  }

  @Patch('message')
  @HttpCode(204)
  async reportStates(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.api.reportStates(await this.device(authorization, request), body);
  }

  @Get('settings')
  async settings(
    @Headers('authorization') authorization: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<Record<string, Record<string, unknown>>> {
    return this.api.settings(await this.device(authorization, request));
  }

  @Get('webhooks')
  async webhooks(
    @Headers('authorization') authorization: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<Array<{ id: string; url: string; event: string }>> {
    await this.device(authorization, request);
    return this.api.webhooks(baseUrlOf(request));
  }

  /** Our receiver of the app's `sms:received` webhooks: signed with the device's key, no bearer token. */
  @Post('webhooks/incoming')
  @HttpCode(200)
  async incomingSms(
    @Req() request: RawRequest,
    @Headers('x-signature') signature: string | undefined,
    @Headers('x-timestamp') timestamp: string | undefined,
    @Body() body: unknown,
  ): Promise<{ id: string }> {
    this.limits.beforeToken(request.ip);
    const stored = await this.counted(
      request,
      this.incoming.receive(request.rawBody?.toString('utf8'), body, signature, timestamp, (deviceId) =>
        this.limits.device(deviceId),
      ),
    );
    return { id: String(stored.messageId) };
  }

  /** Server-Sent Events: `MessageEnqueued` when the phone has work, `SettingsUpdated`, keepalives. */
  @Get('events')
  async events(
    @Headers('authorization') authorization: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const device = await this.device(authorization, request);
    const slot = this.streams.reserve(request.ip);
    try {
      await this.api.streamOpened(device);
    } catch (error) {
      slot.release();
      throw error;
    }
    if (request.raw.destroyed) return slot.release();
    void reply.hijack();
    this.streams.open(device.deviceId, reply.raw, () => this.api.streamClosed(device), slot);
  }
}

/**
 * The base URL the phone uses for us, from this request: behind a reverse proxy, the scheme and host it
 * forwarded (`X-Forwarded-Proto`, `X-Forwarded-Host`), then the path up to `/webhooks`.
 */
export function baseUrlOf(request: FastifyRequest): string {
  const first = (value: string | string[] | undefined) =>
    (Array.isArray(value) ? value[0] : value)?.split(',')[0].trim();
  const proto = first(request.headers['x-forwarded-proto']) === 'https' ? 'https' : 'http';
  const host = first(request.headers['x-forwarded-host']) ?? request.headers.host ?? 'localhost';
  const path = (request.url ?? '').split('?')[0].replace(/\/webhooks\/?$/, '');
  return `${proto}://${host}${path}`;
}
