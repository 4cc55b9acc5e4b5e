import { connect, Socket } from 'node:net';

/** After an answer, how long to wait for the server to close the connection. */
const CLOSE_WAIT_MS = 1_000;

export interface RawAnswer {
  /** 0 when the connection closed without an HTTP answer. */
  status: number;
  body: string;
  /** From the first byte written to the answer's end (or the connection's close). */
  ms: number;
  /** The server closed the connection (not only answered). */
  closed: boolean;
}

/**
 * One HTTP/1.1 request written by hand over TCP: what a client that lies about its length, stalls, or
 * sends its body slowly looks like. `head` is the request line and headers (without the blank line);
 * `chunks` are written one after the other, `gapMs` apart; the answer is awaited up to `waitMs`.
 */
export function rawRequest(
  url: string,
  head: string,
  chunks: Array<string | Buffer> = [],
  options: { gapMs?: number; waitMs?: number } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let done = false;
    let answeredAt: number | undefined;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = received.toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      resolve({ status, body, ms: (answeredAt ?? Date.now()) - started, closed });
    };
    let timer = setTimeout(() => finish(false), options.waitMs ?? 10_000);
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (answeredAt === undefined && answerComplete(received)) {
        answeredAt = Date.now();
        // Answered: does the server close the connection too?
        clearTimeout(timer);
        timer = setTimeout(() => finish(false), CLOSE_WAIT_MS);
      }
    });
    // The server's FIN ('end') is its close, whether or not we still write.
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      socket.write(`${head}\r\n\r\n`);
      for (const chunk of chunks) {
        if (done || socket.destroyed) return;
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        // As fast as the server reads, no faster: a large body is never buffered here whole.
        if (!socket.destroyed && !socket.write(chunk))
          await new Promise((resolve) => {
            socket.once('drain', resolve);
            socket.once('close', resolve);
          });
      }
    });
  });
}

function answerComplete(received: Buffer): boolean {
  const text = received.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1];
  return length !== undefined && received.length >= end + 4 + Number(length);
}

/**
 * A multipart body of text fields, with its content type. A field may name its part's own Content-Type
 * (no file name): `application/json`, as some HTTP libraries type a JSON field.
 */
export function multipartBody(
  fields: Array<[name: string, value: string, partType?: string]>,
  boundary = 'smsfleetboundary',
): {
  contentType: string;
  body: Buffer;
} {
  const parts = fields.map(
    ([name, value, partType]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n${
        partType === undefined ? '' : `Content-Type: ${partType}\r\n`
      }\r\n${value}\r\n`,
  );
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`),
  };
}
