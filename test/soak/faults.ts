import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redisEpochKey, redisRunIdOf } from '@smsfleet/contracts';
import { BenchSystem } from '../harness/bench-system';
import { PostgresCluster } from '../harness/postgres-cluster';
import { RedisServer } from '../harness/redis-server';

export type FaultName =
  | 'kill -9 api'
  | 'kill -9 scheduler'
  | 'kill -9 dispatcher'
  | 'kill -9 status'
  | 'Redis kill -9 + restart (AOF), automatic rebuild'
  | 'PostgreSQL restart -m immediate';

export interface FaultRecord {
  fault: FaultName;
  /** ms since the run started */
  injectedAt: number;
  /** ms since the run started: the app live again / the server answering again */
  restoredAt: number;
  repaired: boolean;
  /** e.g. what the scheduler's rebuild after the Redis restart did */
  note?: string;
}

interface Fault {
  name: FaultName;
  inject(): Promise<string | undefined>;
}

const REBUILD_TIMEOUT_MS = 300_000;

/**
 * No `cli reconcile` (the runbook's step before issue 6): the scheduler notices the new Redis run_id and
 * rebuilds the queues by itself; repaired once the epoch marker carries the new run_id.
 */
async function waitForSchedulerRebuild(system: BenchSystem): Promise<string> {
  const redis = system.redis();
  const runId = redisRunIdOf(await redis.info('server'));
  const deadline = Date.now() + REBUILD_TIMEOUT_MS;
  while ((await redis.get(redisEpochKey(system.redisPrefix))) !== runId) {
    if (Date.now() > deadline)
      throw new Error(`the scheduler did not rebuild within ${REBUILD_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const rebuild = readFileSync(join(system.logDir, 'scheduler.log'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('device queues rebuilt from PostgreSQL'))
    .at(-1);
  if (!rebuild) return 'scheduler: nothing was waiting to rebuild';
  const { enqueued, returnedToOutbox, brokenJobsRemoved, orphanJobsRemoved, checked, since } = JSON.parse(
    rebuild,
  ) as Record<string, number | string | null>;
  const figures = { checked, since, enqueued, returnedToOutbox, brokenJobsRemoved, orphanJobsRemoved };
  return `scheduler rebuilt: ${JSON.stringify(figures)}`;
}

/**
 * One of each fault, spread evenly over the load: kill -9 and restart of each app, a kill -9 of Redis and
 * its restart from the AOF (the scheduler rebuilds the queues by itself), a PostgreSQL immediate restart.
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
        name: 'Redis kill -9 + restart (AOF), automatic rebuild',
        inject: async () => {
          await redis.kill();
          await redis.restart();
          return waitForSchedulerRebuild(system);
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
