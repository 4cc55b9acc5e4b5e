import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The HTTP side of the app double: JSON requests and one long-lived stream, over http or https. */
export interface AppHttpOptions {
  /** Extra root certificate to trust (a LAN proxy's internal CA; the app trusts user-installed CAs). */
  ca?: string | Buffer;
  userAgent: string;
}

export interface AppResponse {
  status: number;
  text: string;
}

/** Thrown for a non-2xx answer: the app's Ktor client has `expectSuccess = true`. */
export class AppHttpError extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${text.slice(0, 200)}`);
  }
}

export class AppHttp {
  constructor(private readonly options: AppHttpOptions) {}

  private open(
    method: string,
    url: string,
    headers: Record<string, string>,
    onResponse: (response: IncomingMessage) => void,
  ) {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return send(
      target,
      {
        method,
        headers: { 'user-agent': this.options.userAgent, ...headers },
        ...(this.options.ca ? { ca: this.options.ca } : {}),
        timeout: 30_000,
      },
      onResponse,
    );
  }

  /** A request with an optional JSON body; resolves with any status, rejects on a network error. */
  call(method: string, url: string, headers: Record<string, string>, body?: string): Promise<AppResponse> {
    return new Promise((resolve, reject) => {
      const request = this.open(
        method,
        url,
        { ...headers, ...(body !== undefined ? { 'content-type': 'application/json; charset=UTF-8' } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
      request.end(body);
    });
  }

  /** As `call`, but a non-2xx answer throws (as the app's client does). */
  async expect(method: string, url: string, headers: Record<string, string>, body?: string): Promise<string> {
    const answer = await this.call(method, url, headers, body);
    if (answer.status < 200 || answer.status > 299)
      throw new AppHttpError(answer.status, answer.text, `${method} ${new URL(url).pathname}`);
    return answer.text;
  }

  /**
   * A stream (Server-Sent Events): `onOpen` once a 2xx arrived, `onText` for each chunk, `onEnd` once
   * when it ends for any reason (closed, failed, refused). Answers a function that cancels it.
   */
  stream(
    url: string,
    headers: Record<string, string>,
    handlers: { onOpen(): void; onText(text: string): void; onEnd(error?: Error): void },
  ): () => void {
    let ended = false;
    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      handlers.onEnd(error);
    };
    const request = this.open('GET', url, { accept: 'text/event-stream', ...headers }, (response) => {
      if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) > 299) {
        response.resume();
        end(new AppHttpError(response.statusCode ?? 0, '', 'GET events'));
        return;
      }
      handlers.onOpen();
      response.setEncoding('utf8');
      response.on('data', (text: string) => handlers.onText(text));
      response.on('end', () => end());
      response.on('error', (error) => end(error));
      response.on('close', () => end());
    });
    // The app's SSE client reads with a one-hour timeout: no timeout here.
    request.setTimeout(0);
    request.on('error', (error) => end(error));
    request.end();
    return () => {
      ended = true;
      request.destroy();
    };
  }
}
