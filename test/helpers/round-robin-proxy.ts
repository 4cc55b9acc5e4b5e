import { createServer, request, Server } from 'node:http';
import { freePort } from '../harness/free-port';

/**
 * An HTTP load balancer without sticky sessions: each request goes to the next upstream in turn (what a
 * Kubernetes Service or an Ingress in round-robin does), responses streamed back as they come.
 */
export class RoundRobinProxy {
  private next = 0;
  /** Which upstream served each request, in order. */
  readonly served: number[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(upstreams: number[]): Promise<RoundRobinProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new RoundRobinProxy(server, port);
    server.on('request', (incoming, outgoing) => {
      const index = proxy.next++ % upstreams.length;
      proxy.served.push(index);
      const forwarded = request(
        {
          host: '127.0.0.1',
          port: upstreams[index],
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on('error', () => outgoing.destroy());
      incoming.pipe(forwarded);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
