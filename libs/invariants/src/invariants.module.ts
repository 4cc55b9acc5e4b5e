import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { InvariantChecker } from './invariant-checker';

/** The reliability checks of docs/reliability.md, read from PostgreSQL, Redis and the run's ledgers. */
@Module({
  imports: [PersistenceModule, QueueingModule],
  providers: [InvariantChecker],
  exports: [InvariantChecker],
})
export class InvariantsModule {}
