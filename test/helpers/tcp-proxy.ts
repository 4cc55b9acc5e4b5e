import { createConnection, createServer, Server, Socket } from 'node:net';
import { freePort } from '../harness/free-port';

/**
 * A TCP proxy the test controls, standing in front of the shared PostgreSQL or Redis: `cut()` drops every
 * connection and refuses new ones (the dependency "goes down" for the apps behind it), `heal()` brings it
 * back on the same port. `hold()` keeps the connections open but stops forwarding what the apps send
 * (their commands sit in flight), `release()` lets it through. The shared servers themselves are never touched.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Client sockets whose bytes are held (paused) until `release()`. */
  private readonly clients = new Set<Socket>();
  private held = false;

  private constructor(
    readonly port: number,
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), targetHost, targetPort);
    await proxy.heal();
    return proxy;
  }

  async heal(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      this.clients.add(client);
      client.on('close', () => {
        this.clients.delete(client);
        upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
      if (this.held) client.pause();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops forwarding the apps' bytes (connections stay open): every command stays in flight. */
  hold(): void {
    this.held = true;
    for (const client of this.clients) client.pause();
  }

  release(): void {
    this.held = false;
    for (const client of this.clients) client.resume();
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
