import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { MetricsModule } from '../metrics/metrics.module';
import { HealthController } from './health.controller';
import { Readiness } from './readiness';

/**
 * /health/live, /health/ready and /metrics for any app; apps add their own readiness conditions through
 * `Readiness` and their instrumentation through `Metrics`.
 */
@Global()
@Module({
  imports: [
    // Readiness logs its own transitions (one structured line each), not every failing probe.
    TerminusModule.forRoot({ logger: false }),
    MetricsModule,
    PersistenceModule,
    QueueingModule,
  ],
  controllers: [HealthController],
  providers: [Readiness],
  exports: [Readiness],
})
export class HealthModule {}
