import { createServer, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import IORedis from 'ioredis';

/**
 * Fleet baseline for SSE phones: a bare node:http server holding STREAMS Server-Sent Events streams with a
 * keepalive comment every 15 s from one timer (what any SSE server must at least hold), and the floor of
 * a wake-up: a Redis message naming stream N makes it write an event to stream N at once. Prints its
 * port; once every stream is open, its RSS before and after; then serves wake-ups until told to stop.
 */
const streams = Number(process.env.STREAMS);
const channel = String(process.env.CHANNEL);
const rssKiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const open: ServerResponse[] = [];
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(':connected\n\n');
  open.push(response);
  if (open.length === streams) setTimeout(report, 2_000);
});
setInterval(() => {
  for (const response of open) response.write(':keepalive\n\n');
}, 15_000).unref();
const subscriber = new IORedis(String(process.env.REDIS_URL));
void subscriber.subscribe(channel);
subscriber.on('message', (_channel: string, message: string) => {
  if (message === 'stop') process.exit(0);
  open[Number(message)]?.write('event: MessageEnqueued\ndata: null\n\n');
});
let before = 0;
function report(): void {
  console.log(JSON.stringify({ streams: open.length, rssBeforeKiB: before, rssAfterKiB: rssKiB() }));
}
server.listen(0, '127.0.0.1', () => {
  before = rssKiB();
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
