import { ItemError } from './item-errors';

/** Machine-readable error codes of the API (`code` beside `error:1` and `message`). */
export type ApiErrorCode =
  | 'invalid_token'
  | 'invalid_credentials'
  | 'validation'
  | 'not_found'
  | 'payload_too_large'
  | 'rate_limited'
  | 'idempotency_conflict'
  | 'not_waiting'
  | 'unavailable'
  | 'internal';

const HTTP_STATUS: Record<ApiErrorCode, number> = {
  invalid_token: 401,
  invalid_credentials: 401,
  validation: 400,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  idempotency_conflict: 409,
  not_waiting: 409,
  unavailable: 503,
  internal: 500,
};

/** An error a client can act on; rendered as `{"error":1,"message":...,"code":...}`. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Every bad item of a bulk request, rendered as `errors`. */
    readonly items?: ItemError[],
    /** When to try again (`Retry-After`), for `rate_limited`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  static validation(message: string): ApiError {
    return new ApiError('validation', message);
  }

  static notFound(message: string): ApiError {
    return new ApiError('not_found', message);
  }
}
