import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How long a closing connection with an unread body stays open after its answer was sent. */
const LINGER_MS = 1_000;
/** How much of the body Node may read (and drop) meanwhile; past it, reading stops. */
const LINGER_BYTES = 1_048_576;

/**
 * A request refused before its body was read (too large, a wrong token) is answered and its connection
 * closed. Closing a socket with unread bytes makes the kernel send a reset, and a client still writing its
 * body then often loses the answer it had already received: the refusal never arrives. So, as web servers
 * do ("lingering close"), the writing side is shut after the answer (the client sees it and the end) and
 * the socket destroyed only a moment later. Meanwhile little or nothing of the body is read: the reading
 * stops after LINGER_BYTES, so an endless body costs no CPU.
 */
export function lingerBeforeClosing(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    const closing = /close/i.test(String(reply.getHeader('connection') ?? ''));
    if (!closing || request.raw.complete) return payload;
    const socket = request.raw.socket as Socket;
    // Node's HTTP server calls destroySoon() once the answer of a closing connection has been written.
    socket.destroySoon = () => {
      socket.end();
      const timer = setTimeout(() => socket.destroy(), LINGER_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
      let read = 0;
      request.raw.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > LINGER_BYTES) request.raw.pause();
      });
    };
    return payload;
  });
}
