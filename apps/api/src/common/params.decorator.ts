import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RequestParams } from './request-params';

/** The call's parameters, query string and body merged (see RequestParams). */
export const Params = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestParams => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  return new RequestParams(request.query, request.body);
});
