import { createServer } from 'node:http';
import { Server } from 'socket.io';

/**
 * Dispatch baseline (a): socket.io emit-with-ack from one server process to N plain clients, M messages
 * each, with the same window as our dispatcher. Prints the messages/s once every ack is in.
 */
const clients = Number(process.env.CLIENTS);
const perClient = Number(process.env.PER_CLIENT);
const windowSize = Number(process.env.WINDOW ?? 10);
const http = createServer();
const io = new Server(http, { transports: ['websocket'] });
let connected = 0;
let started = 0;
let acked = 0;

function feed(socket: import('socket.io').Socket, state: { sent: number; inFlight: number }): void {
  while (state.inFlight < windowSize && state.sent < perClient) {
    state.sent++;
    state.inFlight++;
    socket
      .timeout(30_000)
      .emit(
        'sms',
        { id: state.sent, sendto: '+4915700000000', body: 'benchmark', sim: 0, urgent: false },
        () => {
          state.inFlight--;
          acked++;
          if (acked === clients * perClient) {
            console.log(JSON.stringify({ messagesPerSecond: acked / ((Date.now() - started) / 1000) }));
            process.exit(0);
          }
          feed(socket, state);
        },
      );
  }
}

io.on('connection', () => {
  connected++;
  if (connected === clients) {
    started = Date.now();
    for (const client of io.sockets.sockets.values()) feed(client, { sent: 0, inFlight: 0 });
  }
});
http.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(JSON.stringify({ ready: true })));
