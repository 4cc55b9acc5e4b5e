import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/** What a receiver got: the raw body and headers of each POST. */
export interface Received {
  path: string;
  body: string;
  headers: IncomingHttpHeaders;
}

/** A real HTTP receiver: answers per path from a script (status, delay), the last entry repeating. */
export class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Array<{ status: number; delayMs?: number }>>();
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        this.received.push({ path, body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
        const script = this.scripts.get(path) ?? [{ status: 204 }];
        const step = script.length > 1 ? script.shift()! : script[0];
        setTimeout(() => response.writeHead(step.status).end(), step.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  script(path: string, steps: Array<{ status: number; delayMs?: number }>): void {
    this.scripts.set(path, steps);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The signature check written from the docs alone, without our library. */
export function independentlyVerified(header: string, body: string, secret: string): boolean {
  const parts = header.split(',').map((part) => part.split('='));
  const t = parts.find(([key]) => key === 't')?.[1];
  if (!t || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts
    .filter(([key]) => key === 'v1')
    .some(([, value]) => timingSafeEqual(expected, Buffer.from(value, 'hex')));
}
