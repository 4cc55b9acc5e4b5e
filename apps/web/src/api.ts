/**
 * The dashboard's only way to the server: the documented JSON routes (the OpenAPI document at
 * /docs-json), with the session cookie (sent by the browser, unreadable here) and its CSRF token in the
 * `x-csrf-token` header of every request.
 */
let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** A refusal in the API's format, or a network failure, in words. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly errors?: Array<{ index: number; field: string; message: string }>,
  ) {
    super(message);
  }

  get notFound(): boolean {
    return this.code === 'not_found';
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

export async function call<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {}))
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const url = search.size > 0 ? `${path}?${search}` : path;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(csrfToken ? { 'x-csrf-token': csrfToken } : {}),
        // A FormData body (an image) gets its multipart boundary from the browser.
        ...(options.body === undefined || options.body instanceof FormData
          ? {}
          : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body:
        options.body === undefined || options.body instanceof FormData
          ? (options.body as FormData | undefined)
          : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiFailure('The server cannot be reached. Check your connection and try again.', 'network', 0);
  }
  let answer: Record<string, unknown>;
  try {
    answer = (await response.json()) as Record<string, unknown>;
  } catch {
    throw new ApiFailure(`The server answered ${response.status} without JSON.`, 'internal', response.status);
  }
  // The compatible routes (/getdata/*) answer refusals with HTTP 200 and `error: 1`.
  if (answer.error !== 0) {
    throw new ApiFailure(
      String(answer.message ?? 'The request failed.'),
      String(answer.code ?? 'internal'),
      response.status,
      answer.errors as ApiFailure['errors'],
    );
  }
  return answer as T;
}

export const get = <T>(path: string, query?: Query) => call<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
  call<T>('POST', path, { body: body ?? {}, headers });

export interface Message {
  id: number;
  sendto: string;
  body: string;
  customer_id: number | null;
  status: number;
  status_title: string;
  final: boolean;
  error: string | null;
  device_id: number;
  sim: number;
  urgent: boolean;
  newsletter_id: number | null;
  created_at: string;
  time_to_send: string;
  taken_at: string | null;
  sent_at: string | null;
  delivered_at: string | null;
  failed_at: string | null;
}

export interface MessageDetail extends Message {
  history: Array<{
    status: number;
    status_title: string;
    at: string;
    recorded_at: string;
    error: string | null;
  }>;
}

export interface Device {
  id: number;
  title: string;
  kind: 'socket' | 'smsgate';
  online: boolean;
  last_seen: string;
  created_at: string;
  app_version: string | null;
  sim_info: Array<{
    Slot: number;
    CarrierName?: string | null;
    Number?: string | null;
    IccId?: string | null;
  }>;
  send_slots: number[];
  delaybetweeneachsms: number;
  /** The upper end of a random pace; null: fixed. */
  delaybetweeneachsms_max: number | null;
  window: number;
  waiting: number;
  sent_today: number;
}

export interface Overview {
  range: string;
  hours: Array<{ hour: string; delivered: number; failed: number; waiting: number; in_progress: number }>;
  failures_by_code: Array<{ status: number; status_title: string; count: number }>;
  devices_online: number;
  devices_total: number;
  oldest_waiting: {
    id: number;
    device_id: number;
    created_at: string;
    due_at: string;
    waiting_seconds: number;
  } | null;
}

export interface SessionInfo {
  email: string;
  timezone: string;
  csrf_token: string;
}
