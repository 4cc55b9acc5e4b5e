import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RedisConnections } from '@smsfleet/queueing';
import { Metrics } from '../metrics/metrics';

/** A dependency must answer within this time, or the app is not ready. */
const CHECK_TIMEOUT_MS = 2_000;
/** Applied migrations do not come undone: once all are seen, read the table again only after this long. */
const MIGRATIONS_CACHE_MS = 30_000;

/** An app-specific readiness condition (e.g. the dispatcher accepts sockets); throws when not met. */
export type ReadinessCheck = () => Promise<void>;

/**
 * Readiness of one app: PostgreSQL and Redis answer, every migration this build knows is applied, the
 * app's own checks pass, and the process is not shutting down (a SIGTERM turns it red before anything
 * else stops, so load balancers take the instance out first).
 */
@Injectable()
export class Readiness implements OnModuleInit {
  private readonly logger = new Logger(Readiness.name);
  private readonly extra = new Map<string, ReadinessCheck>();
  private wasReady?: boolean;
  private shuttingDown = false;
  private migratedAt = 0;
  private needsRedis = true;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly redis: RedisConnections,
    private readonly metrics: Metrics,
  ) {}

  /** Each scrape re-runs the checks, so smsfleet_ready is current even where nothing probes /health. */
  onModuleInit(): void {
    this.metrics.onScrape(async () => {
      await this.check();
    });
  }

  register(name: string, check: ReadinessCheck): void {
    this.extra.set(name, check);
  }

  /** For an app that does its work without Redis (the status app, ADR 1801): Redis does not gate readiness. */
  withoutRedis(): void {
    this.needsRedis = false;
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
    this.metrics.ready.set(0);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Runs every check; `status` is "ok" or "error", with one entry per check in `details`. */
  async check(): Promise<HealthCheckResult> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => this.attempt('shutdown', async () => this.assertNotShuttingDown()),
        () => this.attempt('postgres', () => this.pingPostgres()),
        ...(this.needsRedis ? [() => this.attempt('redis', () => this.pingRedis())] : []),
        () => this.attempt('migrations', () => this.assertMigrated()),
        ...[...this.extra].map(
          ([name, check]) =>
            () =>
              this.attempt(name, check),
        ),
      ]);
    } catch (error) {
      // Terminus throws a 503 carrying the full result when a check is down.
      const response = (error as { getResponse?: () => unknown }).getResponse?.();
      if (!response || typeof response !== 'object') throw error;
      result = response as HealthCheckResult;
    }
    this.record(result);
    return result;
  }

  private attempt(name: string, check: () => Promise<unknown>) {
    return this.indicator
      .check(name)
      .attempt(async () => {
        await check();
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  private record(result: HealthCheckResult): void {
    const ok = result.status === 'ok' && !this.shuttingDown;
    this.metrics.ready.set(ok ? 1 : 0);
    for (const [name, detail] of Object.entries(result.details))
      this.metrics.dependencyUp.set({ check: name }, detail.status === 'up' ? 1 : 0);
    // One line per change, not per probe: an outage seen by probes every few seconds stays readable.
    if (ok === this.wasReady) return;
    const first = this.wasReady === undefined;
    this.wasReady = ok;
    if (ok) {
      if (!first) this.logger.log('ready again');
      return;
    }
    const failing = Object.fromEntries(
      Object.entries(result.details)
        .filter(([, detail]) => detail.status !== 'up')
        .map(([name, detail]) => [name, (detail as { message?: string }).message ?? detail.status]),
    );
    this.logger.warn({ failing }, 'not ready');
  }

  private assertNotShuttingDown(): void {
    if (this.shuttingDown) throw new Error('shutting down');
  }

  private async pingPostgres(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  private async pingRedis(): Promise<void> {
    // While disconnected, commands would wait in the offline queue: fail at once instead.
    if (this.redis.shared.status !== 'ready') throw new Error(`redis is ${this.redis.shared.status}`);
    await this.redis.shared.ping();
  }

  /** Pending migrations are re-checked at every probe, so an app turns ready right after the migrate job. */
  private async assertMigrated(): Promise<void> {
    if (Date.now() - this.migratedAt < MIGRATIONS_CACHE_MS) return;
    const rows: Array<{ name: string }> = await this.db.query('SELECT name FROM migrations');
    const applied = new Set(rows.map((row) => row.name));
    const pending = this.db.migrations
      .map((migration) => migration.name ?? migration.constructor.name)
      .filter((name) => !applied.has(name));
    if (pending.length > 0) throw new Error(`pending migrations: ${pending.join(', ')}`);
    this.migratedAt = Date.now();
  }
}
