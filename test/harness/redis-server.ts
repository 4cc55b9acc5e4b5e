import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { freePort } from './free-port';

export interface RedisServerOptions {
  /** `appendonly yes` with `appendfsync everysec`: what production runs (F6a, docs/reliability.md). */
  appendOnly?: boolean;
  /** e.g. "64mb"; the policy is always `noeviction`, as BullMQ requires (F10). */
  maxMemory?: string;
  /** Starts as a replica of the Redis on this local port (a Sentinel group: redis-sentinel.ts). */
  replicaOf?: number;
  /** TLS only (`--port 0`): this certificate and key; clients are checked against nothing (`--tls-auth-clients no`). */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** An ACL user with every right; the default user is turned off, so nothing gets in without logging in. */
  user?: { name: string; password: string };
}

/**
 * A private redis-server on a free port with its own data directory, for faults that need to crash,
 * restart or starve Redis itself: the machine's shared Redis must never be touched that way.
 */
export class RedisServer {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'smsfleet-redis-')), options);
    await server.launch();
    return server;
  }

  get url(): string {
    const { tls, user } = this.options;
    const login = user ? `${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@` : '';
    return `${tls ? 'rediss' : 'redis'}://${login}127.0.0.1:${this.port}/0`;
  }

  /**
   * What the apps are given to reach this server. Its certificate names "localhost", not the address
   * connected to: REDIS_TLS_SERVERNAME says so, as it would for a managed Redis reached by IP.
   */
  get env(): Record<string, string> {
    const tls = this.options.tls;
    return {
      REDIS_URL: this.url,
      ...(tls ? { REDIS_TLS_CA_FILE: tls.caFile, REDIS_TLS_SERVERNAME: 'localhost' } : {}),
    };
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** kill -9: no shutdown save, no goodbye; what is on disk (the AOF) is all that survives. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Starts again on the same port and data directory (so an AOF is replayed). */
  async restart(): Promise<void> {
    if (this.running) await this.signal('SIGTERM');
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.running) await this.signal('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const { tls, user } = this.options;
    const args = tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.certFile]
      : ['--port', String(this.port)];
    if (tls)
      args.push('--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no');
    if (user)
      args.push(
        '--user',
        'default',
        'off',
        '--user',
        user.name,
        'on',
        `>${user.password}`,
        '~*',
        '&*',
        '+@all',
      );
    args.push('--bind', '127.0.0.1', '--dir', this.dir, '--save', '');
    args.push('--appendonly', this.options.appendOnly ? 'yes' : 'no', '--appendfsync', 'everysec');
    if (this.options.maxMemory) args.push('--maxmemory', this.options.maxMemory);
    args.push('--maxmemory-policy', 'noeviction');
    if (this.options.replicaOf !== undefined)
      args.push('--replicaof', '127.0.0.1', String(this.options.replicaOf));
    // Redis records its own stalls over 100 ms (LATENCY LATEST): the soak prints them.
    args.push('--latency-monitor-threshold', '100');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(this.dir, 'redis.log'), { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.process = child;
    await this.waitUntilAnswering(child);
  }

  /** Redis answers PING only once it has loaded its AOF, so this also waits for the replay. */
  private async waitUntilAnswering(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (see ${this.dir}/redis.log)`);
      const client = new IORedis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        ...(this.options.tls
          ? { tls: { ca: readFileSync(this.options.tls.caFile), servername: 'localhost' } }
          : {}),
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        // not up yet, or still loading
      } finally {
        client.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`redis-server on port ${this.port} did not answer within 20 s`);
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
