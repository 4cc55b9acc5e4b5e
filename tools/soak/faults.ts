import { BenchSystem } from '../bench/bench-system';
import { PostgresCluster } from '../supervisor/postgres-cluster';
import { RedisServer } from '../supervisor/redis-server';

export type FaultName =
  | 'kill -9 api'
  | 'kill -9 scheduler'
  | 'kill -9 dispatcher'
  | 'kill -9 status'
  | 'Redis kill -9 + restart (AOF)'
  | 'PostgreSQL restart -m immediate';

export interface FaultRecord {
  fault: FaultName;
  /** ms since the run started */
  injectedAt: number;
  /** ms since the run started: the app live again / the server answering again */
  restoredAt: number;
  repaired: boolean;
  /** e.g. what the reconcile after the Redis restart did */
  note?: string;
}

interface Fault {
  name: FaultName;
  inject(): Promise<string | undefined>;
}

/**
 * One of each fault, spread evenly over the load: kill -9 and restart of each app, a kill -9 of Redis and
 * its restart from the AOF (followed by the reconcile, as the runbook says), a PostgreSQL immediate restart.
 * Faults run one after another; one still running when the next is due delays it.
 */
export class FaultTimeline {
  readonly records: FaultRecord[] = [];
  current?: FaultName;
  private readonly faults: Fault[];

  constructor(
    private readonly system: BenchSystem,
    redis: RedisServer,
    postgres: PostgresCluster,
    private readonly runStartedAt: number,
  ) {
    const app = (name: 'api' | 'scheduler' | 'dispatcher' | 'status'): Fault => ({
      name: `kill -9 ${name}`,
      inject: async () => {
        await system.crashAndRestart(name);
        return undefined;
      },
    });
    this.faults = [
      app('api'),
      app('dispatcher'),
      app('scheduler'),
      {
        name: 'Redis kill -9 + restart (AOF)',
        inject: async () => {
          await redis.kill();
          await redis.restart();
          const reconcile = await system.cli('reconcile');
          if (reconcile.status !== 0) throw new Error(`reconcile failed: ${reconcile.stderr}`);
          return `reconcile: ${reconcile.stdout.trim().split('\n').at(-1)}`;
        },
      },
      app('status'),
      {
        name: 'PostgreSQL restart -m immediate',
        inject: () => postgres.restartImmediateInBackground().then(() => undefined),
      },
    ];
  }

  get count(): number {
    return this.faults.length;
  }

  /** Runs every fault, the k-th due at k/(n+1) of `durationMs` after the run started. */
  async run(durationMs: number): Promise<void> {
    for (const [index, fault] of this.faults.entries()) {
      const due = this.runStartedAt + ((index + 1) * durationMs) / (this.faults.length + 1);
      if (Date.now() < due) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      this.current = fault.name;
      const injectedAt = Date.now() - this.runStartedAt;
      // A repair that fails is a result to report (and a failed soak), not a reason to stop the others.
      const [repaired, note] = await fault.inject().then(
        (text) => [true, text] as const,
        (error: Error) => [false, `NOT REPAIRED: ${error.message}`] as const,
      );
      this.records.push({
        fault: fault.name,
        injectedAt,
        restoredAt: Date.now() - this.runStartedAt,
        repaired,
        note,
      });
      this.current = undefined;
    }
  }
}
