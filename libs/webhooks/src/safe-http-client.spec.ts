import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { AddressPolicy } from './address-policy';
import { DeliveryOutcome, Resolver, SafeHttpClient } from './safe-http-client';

interface Receiver {
  port: number;
  url: (path?: string, host?: string) => string;
  /** Bodies received, in order. */
  bodies: string[];
  headers: http.IncomingHttpHeaders[];
  /** Connections accepted (to see keep-alive reuse) and closed by the client. */
  connections: number;
  closed: number;
  stop: () => Promise<void>;
}

const receivers: Receiver[] = [];
const clients: SafeHttpClient[] = [];

/** A real HTTP server on 127.0.0.1 that records what reached it and answers with `answer`. */
async function receiver(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.bodies.push(Buffer.concat(chunks).toString());
      state.headers.push(req.headers);
      answer(req, res);
    });
  });
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => {
      state.closed += 1;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const state: Receiver = {
    port,
    url: (path = '/hook', host = '127.0.0.1') => `http://${host}:${port}${path}`,
    bodies: [],
    headers: [],
    connections: 0,
    closed: 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  receivers.push(state);
  return state;
}

function client(
  allowPrivateTargets: boolean,
  extra: Partial<ConstructorParameters<typeof SafeHttpClient>[0]> = {},
) {
  const made = new SafeHttpClient({ policy: new AddressPolicy({ allowPrivateTargets }), ...extra });
  clients.push(made);
  return made;
}

const json = '{"id":"evt_1","type":"message.sent"}';

afterEach(async () => {
  for (const made of clients.splice(0)) made.close();
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

describe('SafeHttpClient against real receivers', () => {
  it('POSTs the JSON body and headers; any 2xx is delivered, with the capped answer body', async () => {
    const server = await receiver((_req, res) => res.writeHead(202).end('{"ok":true}'));
    const outcome = await client(true).postJson(server.url(), json, { 'smsfleet-event-id': 'evt_1' });
    expect(outcome).toMatchObject({ kind: 'delivered', status: 202, responseBody: '{"ok":true}' });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    expect(server.bodies).toEqual([json]);
    expect(server.headers[0]).toMatchObject({
      'content-type': 'application/json',
      'content-length': String(json.length),
      'smsfleet-event-id': 'evt_1',
      'user-agent': 'smsfleet-webhooks/1',
    });
  });

  it('reuses one keep-alive connection per origin for consecutive deliveries', async () => {
    const server = await receiver((_req, res) => res.writeHead(200).end());
    const http1 = client(true);
    for (let i = 0; i < 5; i += 1) expect((await http1.postJson(server.url(), json)).kind).toBe('delivered');
    expect(server.bodies).toHaveLength(5);
    expect(server.connections).toBe(1);
  });

  it('lets a slow answer within the deadline finish, however short the idle-socket timeout', async () => {
    const server = await receiver((_req, res) => {
      setTimeout(() => res.writeHead(200).end('late'), 600);
    });
    const outcome = await client(true, { timeoutMs: 3000, idleSocketMs: 100 }).postJson(server.url(), json);
    expect(outcome).toMatchObject({ kind: 'delivered', responseBody: 'late' });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(590);
  });

  it('answers 500 as failed and 410 as gone', async () => {
    const server = await receiver((req, res) => res.writeHead(req.url === '/gone' ? 410 : 500).end('boom'));
    expect(await client(true).postJson(server.url('/err'), json)).toMatchObject({
      kind: 'failed',
      status: 500,
      error: 'HTTP 500',
      responseBody: 'boom',
    });
    expect(await client(true).postJson(server.url('/gone'), json)).toMatchObject({
      kind: 'gone',
      status: 410,
    });
  });

  it('reads Retry-After in seconds and as an HTTP date', async () => {
    const server = await receiver((req, res) => {
      const value = req.url === '/date' ? new Date(Date.now() + 120_000).toUTCString() : '30';
      res.writeHead(req.url === '/date' ? 503 : 429, { 'retry-after': value }).end();
    });
    expect(await client(true).postJson(server.url('/seconds'), json)).toMatchObject({
      kind: 'failed',
      status: 429,
      retryAfterMs: 30_000,
    });
    const dated = await client(true).postJson(server.url('/date'), json);
    expect(dated).toMatchObject({ kind: 'failed', status: 503 });
    // HTTP dates have whole seconds: 119–120 s from now.
    expect(dated.retryAfterMs).toBeGreaterThan(118_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('gives up on a receiver answering in 15 s after the 1 s timeout', async () => {
    const server = await receiver((_req, res) => {
      const timer = setTimeout(() => res.writeHead(200).end(), 15_000);
      res.on('close', () => clearTimeout(timer));
    });
    const started = Date.now();
    const outcome = await client(true, { timeoutMs: 1000 }).postJson(server.url(), json);
    const took = Date.now() - started;
    expect(outcome).toMatchObject({ kind: 'failed', error: 'no answer within 1000 ms' });
    expect(outcome.status).toBeUndefined();
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(5000);
    await waitFor(() => server.closed === 1);
  });

  it('reads a huge answer only up to the cap and drops the connection', async () => {
    const server = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(64 * 1024);
      // An endless body: only the client closing the connection ends it.
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const outcome = await client(true, { timeoutMs: 5000, maxResponseBytes: 4096 }).postJson(
      server.url(),
      json,
    );
    expect(outcome.kind).toBe('delivered');
    expect(outcome.responseBody).toHaveLength(4096);
    expect(outcome.latencyMs).toBeLessThan(4000);
    await waitFor(() => server.closed === 1);
  });

  it('does not let a slow body hold the call past the timeout', async () => {
    const server = await receiver((_req, res) => {
      res.writeHead(200);
      res.write('a');
      const timer = setInterval(() => res.write('b'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const outcome = await client(true, { timeoutMs: 800 }).postJson(server.url(), json);
    expect(outcome).toMatchObject({ kind: 'delivered', status: 200 });
    expect(outcome.responseBody).toMatch(/^ab+$/);
    expect(outcome.latencyMs).toBeLessThan(3000);
  });

  it('does not follow a redirect: the 3xx is the outcome', async () => {
    const target = await receiver((_req, res) => res.writeHead(200).end());
    const redirecting = await receiver((_req, res) =>
      res.writeHead(307, { location: target.url('/elsewhere') }).end(),
    );
    expect(await client(true).postJson(redirecting.url(), json)).toMatchObject({
      kind: 'failed',
      status: 307,
      error: 'redirect (HTTP 307) not followed',
    });
    expect(redirecting.bodies).toHaveLength(1);
    expect(target.bodies).toHaveLength(0);
  });

  it('fails with the network error when nothing listens', async () => {
    const server = await receiver((_req, res) => res.end());
    const url = server.url();
    await server.stop();
    const outcome = await client(true).postJson(url, json);
    expect(outcome).toMatchObject({ kind: 'failed' });
    expect(outcome.error).toMatch(/^ECONNREFUSED/);
  });

  it('retries once on a fresh connection when a reused keep-alive one was closed under it', async () => {
    // A raw server that answers the first request of a connection with keep-alive, then drops the
    // connection on its second request unanswered: what a server closing an idle socket looks like.
    let connections = 0;
    let requests = 0;
    const server = net.createServer((socket) => {
      connections += 1;
      let seen = 0;
      socket.on('data', (data) => {
        if (!data.toString().startsWith('POST ')) return;
        requests += 1;
        seen += 1;
        if (seen === 1)
          socket.write('HTTP/1.1 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok');
        else socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const pooled = client(true);
      expect(await pooled.postJson(url, json)).toMatchObject({ kind: 'delivered' });
      expect(await pooled.postJson(url, json)).toMatchObject({ kind: 'delivered', responseBody: 'ok' });
      expect({ connections, requests }).toEqual({ connections: 2, requests: 3 });
    } finally {
      server.close();
    }
  });

  it('answers a header value Node refuses (CR/LF) as a failure, never a throw', async () => {
    const server = await receiver((_req, res) => res.end());
    const outcome = await client(true).postJson(server.url(), json, {
      'smsfleet-event-id': 'a\r\nx-injected: 1',
    });
    expect(outcome.kind).toBe('failed');
    expect(outcome.error).toMatch(/^request not sent: /);
    expect(server.bodies).toHaveLength(0);
  });

  it('refuses an invalid URL without sending anything', async () => {
    expect(await client(true).postJson('ftp://example.com/', json)).toMatchObject({
      kind: 'refused',
      error: 'url must be an absolute http:// or https:// URL',
    });
  });
});

describe('SafeHttpClient over https', () => {
  it('verifies the certificate against the host name while connecting to the checked address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
    try {
      // A throwaway certificate for "localhost", made by openssl (always present on the Debian images).
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'));
      const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) =>
        req.resume().on('end', () => res.writeHead(200).end('tls ok')),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      try {
        expect(await client(true, { ca: cert }).postJson(`https://localhost:${port}/`, json)).toMatchObject({
          kind: 'delivered',
          responseBody: 'tls ok',
        });
        // The certificate names localhost, not 127.0.0.1, and an unknown CA is refused.
        const wrongName = await client(true, { ca: cert }).postJson(`https://127.0.0.1:${port}/`, json);
        expect(wrongName).toMatchObject({ kind: 'failed' });
        expect(wrongName.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
        const unknownCa = await client(true).postJson(`https://localhost:${port}/`, json);
        expect(unknownCa.error).toMatch(/SELF_SIGNED/);
        expect(await client(false, { ca: cert }).postJson(`https://localhost:${port}/`, json)).toMatchObject({
          kind: 'refused',
        });
      } finally {
        server.closeAllConnections();
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SafeHttpClient SSRF defaults', () => {
  /** A resolver for names of our own: what a hostile DNS zone would answer. */
  const zone: Resolver = async (hostname) => {
    const records: Record<string, Array<{ address: string; family: number }>> = {
      'rebound.test': [{ address: '127.0.0.1', family: 4 }],
      'mixed.test': [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    };
    const found = records[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };

  async function expectRefused(url: string, reason: RegExp, resolve?: Resolver): Promise<DeliveryOutcome> {
    const outcome = await client(false, resolve ? { resolve } : {}).postJson(url, json);
    expect(outcome.kind).toBe('refused');
    expect(outcome.error).toMatch(reason);
    return outcome;
  }

  it('refuses loopback, private, link-local, metadata and IPv6-mapped literals without connecting', async () => {
    const server = await receiver((_req, res) => res.end());
    await expectRefused(server.url(), /^127\.0\.0\.1: loopback address$/);
    await expectRefused(server.url('/', '[::1]'), /^::1: loopback address$/);
    await expectRefused(
      server.url('/', '[::ffff:127.0.0.1]'),
      /^::ffff:7f00:1: loopback address \(IPv4-mapped/,
    );
    await expectRefused('http://10.0.0.8:8080/hook', /private address/);
    await expectRefused('http://192.168.1.20/hook', /private address/);
    await expectRefused('http://169.254.10.1/hook', /link-local address/);
    await expectRefused('http://169.254.169.254/latest/meta-data/', /cloud metadata address/);
    await expectRefused('http://[fe80::1]/hook', /link-local address/);
    await expectRefused('http://0.0.0.0:80/', /unspecified/);
    expect(server.connections).toBe(0);
  });

  it('refuses names resolving to loopback: localhost and a name of a hostile zone', async () => {
    const server = await receiver((_req, res) => res.end());
    await expectRefused(
      server.url('/', 'localhost'),
      /^localhost resolves to (127\.0\.0\.1|::1): loopback address$/,
    );
    await expectRefused(
      server.url('/', 'rebound.test'),
      /^rebound\.test resolves to 127\.0\.0\.1: loopback/,
      zone,
    );
    // One refused address refuses the name: the connection could fall back to it.
    await expectRefused(server.url('/', 'mixed.test'), /^mixed\.test resolves to 127\.0\.0\.1/, zone);
    expect(server.connections).toBe(0);
  });

  it('delivers to the same targets when the operator allows private targets', async () => {
    const server = await receiver((_req, res) => res.writeHead(204).end());
    const lan = client(true, { resolve: zone });
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', 'rebound.test'])
      expect(await lan.postJson(server.url('/', host), json)).toMatchObject({
        kind: 'delivered',
        status: 204,
      });
    expect(await client(true).postJson(server.url('/', 'localhost'), json)).toMatchObject({
      kind: 'delivered',
    });
    expect(server.bodies).toHaveLength(4);
  });

  it('reports a name that does not resolve as a failure (retried), not a refusal', async () => {
    const outcome = await client(false, { resolve: zone }).postJson('http://nowhere.test/hook', json);
    expect(outcome).toMatchObject({ kind: 'failed', error: 'DNS: ENOTFOUND' });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
