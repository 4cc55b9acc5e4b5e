import { Controller, Get, Res } from '@nestjs/common';
import { HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Readiness } from './readiness';

/** Liveness (the process serves) and readiness (it can do its work) of any app. */
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    const result = await this.readiness.check();
    if (result.status !== 'ok') void reply.status(503);
    return result;
  }
}
