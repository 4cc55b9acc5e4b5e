import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { freePort } from './free-port';
import { RedisServer } from './redis-server';
import { waitFor } from './wait-for';

export const SENTINEL_MASTER = 'smsfleet';
/** How long a primary may be silent before a Sentinel calls it down (production: 5-30 s). */
const DOWN_AFTER_MS = 1_000;

/**
 * A Redis primary with one replica (both AOF everysec, as production runs them) watched by three Sentinels
 * (`redis-server --sentinel`, quorum 2), each in a temporary directory on free ports: what Bitnami's chart
 * with sentinel.enabled runs, for the failover fault. The machine's shared Redis is never involved.
 */
export class RedisSentinelGroup {
  private readonly sentinels: ChildProcess[] = [];

  private constructor(
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    readonly sentinelPorts: number[],
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisSentinelGroup> {
    const primary = await RedisServer.start({ appendOnly: true });
    const replica = await RedisServer.start({ appendOnly: true, replicaOf: primary.port });
    const ports = [await freePort(), await freePort(), await freePort()];
    const group = new RedisSentinelGroup(
      primary,
      replica,
      ports,
      mkdtempSync(join(tmpdir(), 'smsfleet-sentinel-')),
    );
    try {
      for (const port of ports) group.launchSentinel(port);
      await group.waitUntilWatching();
    } catch (error) {
      await group.stop();
      throw error;
    }
    return group;
  }

  /** What the apps are given instead of REDIS_URL. */
  get env(): Record<string, string> {
    return {
      REDIS_SENTINELS: this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
    };
  }

  /** The port of the primary as the Sentinels name it now. */
  async primaryPort(): Promise<number | undefined> {
    for (const port of this.sentinelPorts) {
      const client = this.localClient(port);
      try {
        const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER)) as
          string[] | null;
        if (reply) return Number(reply[1]);
      } catch {
        // this Sentinel is not answering: ask the next
      } finally {
        client.disconnect();
      }
    }
    return undefined;
  }

  /** Waits until the Sentinels have promoted the replica (after the primary was killed). */
  async waitForPromotion(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'the Sentinels promoted the replica',
      async () => (await this.primaryPort()) === this.replica.port,
      timeoutMs,
      100,
    );
    await waitFor(
      'the promoted replica answers as a primary',
      async () => /role:master/.test(await this.info(this.replica.port, 'replication')),
      timeoutMs,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.sentinels.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await this.replica.stop();
    await this.primary.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private launchSentinel(port: number): void {
    const dir = join(this.dir, String(port));
    const config = join(this.dir, `sentinel-${port}.conf`);
    // Sentinel rewrites its file (known replicas and Sentinels): one writable file each.
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${this.primary.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [config, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(`${dir}.log`, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.sentinels.push(child);
  }

  /** Every Sentinel sees the replica (in sync) and the two other Sentinels: a failover can then be agreed. */
  private async waitUntilWatching(): Promise<void> {
    await waitFor(
      'the replica in sync with the primary',
      async () => /master_link_status:up/.test(await this.info(this.replica.port, 'replication')),
      20_000,
      100,
    );
    await waitFor(
      'each Sentinel knows the replica and the other Sentinels',
      async () => {
        for (const port of this.sentinelPorts) {
          const client = this.localClient(port);
          try {
            const replicas = (await client.call('SENTINEL', 'replicas', SENTINEL_MASTER)) as unknown[];
            const others = (await client.call('SENTINEL', 'sentinels', SENTINEL_MASTER)) as unknown[];
            if (replicas.length < 1 || others.length < 2) return false;
          } catch {
            return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      },
      30_000,
      200,
    );
  }

  private localClient(port: number): IORedis {
    const client = new IORedis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    return client;
  }

  private async info(port: number, section: string): Promise<string> {
    const client = this.localClient(port);
    try {
      return await client.info(section);
    } catch {
      return '';
    } finally {
      client.disconnect();
    }
  }
}
