import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInput } from '@smsfleet/validation';
import { ApiError, ApiErrorCode } from './api-error';
import { isDependencyFailure, sqlState } from './dependency-failure';

/** The SmsGateway24 surface answers errors with HTTP 200: its clients read `error`, not the status. */
const COMPAT_PREFIX = '/getdata/';

const CODE_BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'validation',
  401: 'invalid_token',
  404: 'not_found',
  405: 'validation',
  413: 'payload_too_large',
  415: 'validation',
  429: 'rate_limited',
  503: 'unavailable',
};

/** SQLSTATE query_canceled: API_STATEMENT_TIMEOUT_MS passed (nothing was written). */
const STATEMENT_TIMEOUT = '57014';

/** Every error leaves as `{"error":1,"message":...,"code":...}` — never a stack trace. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const error = this.toApiError(exception, request);
    const compat = (request.url ?? '').startsWith(COMPAT_PREFIX);
    // 503 is kept on the compatible surface too: a client must not mistake "retry" for a final answer.
    const status = compat && error.code !== 'unavailable' ? 200 : error.httpStatus;
    if (error.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(error.retryAfterSeconds));
    void reply
      .status(status)
      .header('content-type', 'application/json; charset=utf-8')
      .send({
        error: 1,
        message: error.message,
        code: error.code,
        ...(error.items ? { errors: error.items } : {}),
      });
  }

  private toApiError(exception: unknown, request: FastifyRequest): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof InvalidInput) return ApiError.validation(exception.message);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404)
        return ApiError.notFound(`no such endpoint: ${request.method} ${request.url.split('?')[0]}`);
      const code = CODE_BY_STATUS[status] ?? (status < 500 ? 'validation' : 'internal');
      return new ApiError(code, httpMessage(exception));
    }
    if (isClientGone(exception, request)) {
      // The client went away (or its connection was cut: a slow body past the request timeout).
      this.logger.debug(`request not completed: ${(exception as Error)?.message}`);
      return ApiError.validation('request aborted before it was read');
    }
    if (isMalformedMultipart(exception, request))
      return ApiError.validation(`malformed multipart body: ${(exception as Error).message}`);
    if (exception instanceof Error && sqlState(exception) === STATEMENT_TIMEOUT) {
      this.logger.warn(
        { path: request.url.split('?')[0] },
        'statement cancelled: API_STATEMENT_TIMEOUT_MS passed',
      );
      return new ApiError(
        'unavailable',
        'the request took the database too long; narrow it (begindate/enddate, device_id, status) or retry',
      );
    }
    if (isDependencyFailure(exception)) {
      this.logger.warn(`dependency unavailable: ${(exception as Error).message}`);
      return new ApiError('unavailable', 'temporarily unavailable, retry');
    }
    const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return new ApiError(CODE_BY_STATUS[statusCode] ?? 'validation', (exception as Error).message);
    }
    this.logger.error({ err: exception }, 'unexpected error');
    return new ApiError('internal', 'internal error; it has been logged');
  }
}

function httpMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** The body stopped because its connection did: the client left, or the request timeout cut a slow body. */
function isClientGone(exception: unknown, request: FastifyRequest): boolean {
  return (
    (request.raw.aborted || request.raw.socket?.destroyed === true) &&
    exception instanceof Error &&
    /aborted|premature close|ECONNRESET/i.test(
      `${exception.message} ${(exception as { code?: string }).code}`,
    )
  );
}

/**
 * The multipart parser (busboy) rejects a truncated or garbled body with a plain Error, before any handler
 * ran (test/security/hostile-input found these answered as 500).
 */
function isMalformedMultipart(exception: unknown, request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return (
    exception instanceof Error &&
    typeof type === 'string' &&
    type.toLowerCase().startsWith('multipart/') &&
    /multipart|part header|boundary|unexpected end of (form|part)/i.test(exception.message)
  );
}
