import { DataSource, QueryRunner } from 'typeorm';
import { ClaimedDelivery, claimDueDeliveries, preferOrderedClaimsOnSession } from '@smsfleet/persistence';

/**
 * A connection of the worker's own for its claims, with the claim's planner settings set once for the
 * session: a claim is one round trip instead of four (BEGIN, settings, claim, COMMIT). Under load each
 * round trip waited for a turn of the busy event loop, and a claim took about 30 ms; the next chunk came
 * after the sends of the last had ended in 4 claims of 5 (docs/benchmarks.md). The claim is one
 * statement, atomic without a transaction. A failed claim closes the connection (a new one is opened
 * for the next), and so does `close`: a connection with these settings never goes back to the pool.
 */
export class ClaimConnection {
  private runner?: QueryRunner;

  constructor(private readonly db: DataSource) {}

  async claim(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    try {
      if (this.runner === undefined) {
        const runner = this.db.createQueryRunner();
        this.runner = runner;
        await runner.connect();
        await preferOrderedClaimsOnSession(runner);
      }
      return await claimDueDeliveries(this.runner, limit, leaseSeconds);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Closes the connection (destroyed, not pooled: it carries session settings). */
  async close(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (runner === undefined) return;
    // TypeORM's PostgresQueryRunner: releasing with an error makes the pool destroy the client.
    const release = (runner as unknown as { releasePostgresConnection?: (err: Error) => Promise<void> })
      .releasePostgresConnection;
    if (release) await release.call(runner, new Error('webhook claim connection closed'));
    else await runner.release();
  }
}
