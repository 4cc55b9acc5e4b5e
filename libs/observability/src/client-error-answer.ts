import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Requests Node's HTTP parser refuses before any route runs (headers or URL too large, garbage on the
 * wire) still get our error shape, not Fastify's default (test/security/hostile-input found a 431 with its own).
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    answer(socket, 408, 'request_timeout', 'request not received in time (a slow or stalled upload)');
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  // The compatible surface answers errors with HTTP 200 (docs/api.md: its SDKs throw on any other status), so
  // a request line that names /getdata/ gets 200; the line is in the packet the parser refused, if at all.
  const rawPacket = (error as { rawPacket?: unknown }).rawPacket;
  const requestLine = Buffer.isBuffer(rawPacket) ? rawPacket.subarray(0, 64).toString('latin1') : '';
  const status = /^[A-Z]+ \/getdata\//.test(requestLine) ? 200 : tooLarge ? 431 : 400;
  answer(
    socket,
    status,
    tooLarge ? 'payload_too_large' : 'validation',
    tooLarge ? 'request headers or URL too large' : 'malformed HTTP request',
  );
}

function answer(socket: Socket, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: 1, message, code });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
