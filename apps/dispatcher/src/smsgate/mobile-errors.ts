import { ArgumentsHost, Catch, HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInput } from '@smsfleet/validation';

export const MOBILE_PREFIX = '/mobile/v1';

export type MobileErrorCode =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'device_limit'
  | 'not_found'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable';

const STATUS_OF: Record<MobileErrorCode, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  device_limit: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

const CODE_OF_STATUS: Record<number, MobileErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  429: 'rate_limited',
};

/**
 * A refusal on the SMSGate app's routes: `{"message":…,"code":…}` with its HTTP status, and a `Retry-After`
 * (seconds) when `retryAfterMs` is given.
 */
export class MobileError extends Error {
  constructor(
    readonly code: MobileErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  get status(): number {
    return STATUS_OF[this.code];
  }
}

/**
 * Errors of `/mobile/v1` leave as JSON 4xx (503 when a dependency is away: the app retries); other
 * routes of the dispatcher keep Nest's answers. A 401 means "unknown device token" only: the app
 * re-registers on it, so nothing else may answer 401 to a device.
 */
@Catch()
export class MobileExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('MobileErrors');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    if (!(request.url ?? '').startsWith(MOBILE_PREFIX)) return super.catch(exception, host);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    const error = this.toMobileError(exception, request);
    if (error.retryAfterMs !== undefined)
      void reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1_000))));
    void reply
      .status(error.status)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ message: error.message, code: error.code });
  }

  private toMobileError(exception: unknown, request: FastifyRequest): MobileError {
    if (exception instanceof MobileError) return exception;
    if (exception instanceof InvalidInput) return new MobileError('validation', exception.message);
    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : (exception as { statusCode?: unknown } | null)?.statusCode;
    if (status === 404)
      return new MobileError('not_found', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`);
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message = exception instanceof HttpException ? exception.message : (exception as Error).message;
      return new MobileError(CODE_OF_STATUS[status] ?? 'validation', String(message).slice(0, 200));
    }
    this.logger.warn({ err: exception }, 'mobile request failed; the app retries');
    return new MobileError('unavailable', 'temporarily unavailable, retry');
  }
}
