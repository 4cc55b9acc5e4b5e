import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { AddressPolicy } from './address-policy';
import { parseRetryAfter } from './retry-after';
import { parseWebhookUrl, WebhookUrl } from './webhook-url';
import { InvalidInput } from '@smsfleet/validation';

/** Every address a host name resolves to (both families). */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export interface SafeHttpClientOptions {
  policy: AddressPolicy;
  /** Whole request: connect, send, answer's status and the capped body. Default 10 s. */
  timeoutMs?: number;
  /** TCP connect (after DNS). Default: timeoutMs. */
  connectTimeoutMs?: number;
  /** Bytes of the answer's body read and kept; the rest is not read (the socket is dropped). Default 4 KiB. */
  maxResponseBytes?: number;
  /** Concurrent connections per origin (keep-alive pool). Default 16. */
  maxSocketsPerOrigin?: number;
  /** An idle pooled connection is closed after this; below the 5 s most servers keep one. Default 4 s. */
  idleSocketMs?: number;
  /** DNS; default the system resolver (getaddrinfo, all addresses). Tests inject names here. */
  resolve?: Resolver;
  /** Extra CAs trusted for https (a private CA on a LAN install; tests). */
  ca?: string | Buffer | Array<string | Buffer>;
  userAgent?: string;
}

/**
 * What one POST came to. `delivered`: a 2xx. `gone`: a 410, the receiver asks to end the subscription.
 * `failed`: anything else that reached or tried to reach the receiver (other statuses, 3xx not followed,
 * connection errors, timeouts), retried by the retry policy. `refused`: the URL or an address of its host
 * is not allowed (address policy), nothing was sent.
 */
export interface DeliveryOutcome {
  kind: 'delivered' | 'gone' | 'failed' | 'refused';
  /** The HTTP status, when the receiver answered one. */
  status?: number;
  /** The receiver's Retry-After, in ms from the answer. */
  retryAfterMs?: number;
  /** From the start of the call to the outcome. */
  latencyMs: number;
  /** Why it failed or was refused; never holds the body sent or the secret. */
  error?: string;
  /** The start of the answer's body (up to maxResponseBytes, UTF-8), for the deliveries view. */
  responseBody?: string;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  maxResponseBytes: 4096,
  maxSocketsPerOrigin: 16,
  idleSocketMs: 4000,
  userAgent: 'smsfleet-webhooks/1',
};

/** Raised inside `lookup` so the request fails before connecting, and told apart from network errors. */
class RefusedTarget extends Error {
  readonly code = 'EWEBHOOKREFUSED';
}

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * POSTs webhook bodies. The address connected to is the one checked: Node calls our `lookup` for each new
 * connection, and every address of the name is judged there (a name with one refused address is refused
 * whole, so no fallback between families can reach it). IP literals never reach `lookup`, so they are
 * judged before the request. Redirects are outcomes, never followed. Connections are pooled per origin.
 */
export class SafeHttpClient {
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly resolve: Resolver;
  private readonly userAgent: string;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: SafeHttpClientOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? this.timeoutMs;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
    this.resolve = options.resolve ?? ((hostname) => dnsLookup(hostname, { all: true }));
    this.userAgent = options.userAgent ?? DEFAULTS.userAgent;
    const pool = {
      keepAlive: true,
      maxSockets: options.maxSocketsPerOrigin ?? DEFAULTS.maxSocketsPerOrigin,
      maxFreeSockets: options.maxSocketsPerOrigin ?? DEFAULTS.maxSocketsPerOrigin,
      timeout: options.idleSocketMs ?? DEFAULTS.idleSocketMs,
      scheduling: 'lifo' as const,
    };
    this.httpAgent = new http.Agent(pool);
    this.httpsAgent = new https.Agent({ ...pool, ca: options.ca });
  }

  /**
   * POSTs `body` (JSON text, signed by the caller over exactly these bytes) with `headers` added.
   * Never throws: every problem is an outcome.
   */
  async postJson(
    target: string | WebhookUrl,
    body: string | Buffer,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<DeliveryOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: WebhookUrl;
    try {
      url = typeof target === 'string' ? parseWebhookUrl(target) : target;
    } catch (error) {
      const reason = error instanceof InvalidInput ? error.message : 'url is not valid';
      return { kind: 'refused', latencyMs: elapsed(), error: reason };
    }
    if (url.ipFamily !== 0) {
      const verdict = this.options.policy.check(url.hostname);
      if (!verdict.allowed)
        return { kind: 'refused', latencyMs: elapsed(), error: `${url.hostname}: ${verdict.reason}` };
    }
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const deadline = started + this.timeoutMs;
    const first = await this.attempt(url, payload, headers, deadline);
    // A pooled connection the server closed just as we reused it: nothing reached the receiver, and the
    // at-least-once contract allows one more try on a fresh connection.
    const outcome =
      first.staleSocket && performance.now() < deadline
        ? await this.attempt(url, payload, headers, deadline)
        : first;
    return { ...outcome.result, latencyMs: elapsed() };
  }

  /** Closes pooled connections; requests in flight finish on theirs. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private attempt(
    url: WebhookUrl,
    payload: Buffer,
    headers: Readonly<Record<string, string>>,
    deadline: number,
  ): Promise<{ result: Omit<DeliveryOutcome, 'latencyMs'>; staleSocket: boolean }> {
    return new Promise((settle) => {
      const secure = url.protocol === 'https:';
      const timers: NodeJS.Timeout[] = [];
      let done = false;
      let concludeAnswer: (() => void) | undefined;
      const finish = (result: Omit<DeliveryOutcome, 'latencyMs'>, staleSocket = false) => {
        if (done) return;
        done = true;
        for (const timer of timers) clearTimeout(timer);
        settle({ result, staleSocket });
      };
      let request: http.ClientRequest;
      try {
        request = (secure ? https : http).request({
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.path,
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          lookup: (hostname: string, options: { all?: boolean }, callback: LookupCallback) =>
            this.checkedLookup(hostname, options, callback),
          headers: {
            'content-type': 'application/json',
            'content-length': String(payload.length),
            'user-agent': this.userAgent,
            ...headers,
          },
        });
      } catch (error) {
        // Node checks header names and values synchronously (CR/LF, non-Latin-1): a caller's bug, no retry helps.
        return finish({ kind: 'failed', error: `request not sent: ${(error as Error).message}` });
      }

      const remaining = Math.max(0, deadline - performance.now());
      timers.push(
        setTimeout(() => {
          // Past the deadline mid-body the status already decided the outcome; before it, no answer.
          if (concludeAnswer) concludeAnswer();
          else finish({ kind: 'failed', error: `no answer within ${this.timeoutMs} ms` });
          request.destroy();
        }, remaining),
      );
      request.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const connectTimer = setTimeout(
          () => {
            finish({ kind: 'failed', error: `could not connect within ${this.connectTimeoutMs} ms` });
            request.destroy();
          },
          Math.min(this.connectTimeoutMs, remaining),
        );
        timers.push(connectTimer);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof RefusedTarget) return finish({ kind: 'refused', error: error.message });
        const stale = request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        finish({ kind: 'failed', error: networkError(error) }, stale);
      });
      request.on('response', (response) => {
        concludeAnswer = this.readAnswer(response, finish);
      });
      request.end(payload);
    });
  }

  /**
   * Reads the body up to the cap; the outcome is decided by the status line. Answers the function that
   * concludes with what was read so far (the deadline calls it).
   */
  private readAnswer(
    response: http.IncomingMessage,
    finish: (result: Omit<DeliveryOutcome, 'latencyMs'>) => void,
  ): () => void {
    const status = response.statusCode ?? 0;
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
    const chunks: Buffer[] = [];
    let kept = 0;
    const conclude = () => {
      const responseBody = Buffer.concat(chunks).toString('utf8');
      if (status >= 200 && status < 300) return finish({ kind: 'delivered', status, responseBody });
      if (status === 410) return finish({ kind: 'gone', status, responseBody });
      const error =
        status >= 300 && status < 400 ? `redirect (HTTP ${status}) not followed` : `HTTP ${status}`;
      finish({
        kind: 'failed',
        status,
        error,
        responseBody,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    };
    response.on('data', (chunk: Buffer) => {
      const room = this.maxResponseBytes - kept;
      if (room > 0) {
        const part = chunk.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      }
      if (chunk.length > room) {
        // More than we keep: the rest is not worth reading, and the connection cannot be reused unread.
        conclude();
        response.destroy();
      }
    });
    response.on('end', conclude);
    // Destroyed by the deadline or by the peer mid-body: the status already says what happened.
    response.on('close', conclude);
    response.on('error', () => undefined);
    return conclude;
  }

  private checkedLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
    this.resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) return callback(new Error(`${hostname}: no address`), []);
        for (const { address } of addresses) {
          const verdict = this.options.policy.check(address);
          if (!verdict.allowed)
            return callback(new RefusedTarget(`${hostname} resolves to ${address}: ${verdict.reason}`), []);
        }
        const list = addresses.map(({ address, family }) => ({ address, family }));
        if (options.all) callback(null, list);
        else callback(null, list[0].address, list[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  }
}

function networkError(error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return `DNS: ${error.code}`;
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
