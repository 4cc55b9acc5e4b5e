import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { DevicePresence } from './device-presence';
import { DeviceLeases } from './device-leases';
import { DeviceQueues } from './device-queues';
import { EnqueuedMarker } from './enqueued-marker';
import { DeviceSettingsSignal } from './device-settings-signal';
import { EmissionMark } from './emission-mark';
import { SimQuotaCounters } from './sim-quota-counters';
import { DeviceRevocation } from './device-revocation';
import { DeviceRevocationSignal } from './device-revocation-signal';
import { MessageEnqueuer } from './message-enqueuer';
import { QueueReconciler } from './queue-reconciler';
import { RedisConnections } from './redis-connections';
import { TokenRevocationSignal } from './token-revocation-signal';
import { WaitingJobRemover } from './waiting-job-remover';
import { WorkSignal } from './work-signal';
import { PoolChangedSignal, PoolRouter } from './pools';

@Module({
  imports: [PersistenceModule],
  providers: [
    RedisConnections,
    DevicePresence,
    DeviceQueues,
    WorkSignal,
    EnqueuedMarker,
    MessageEnqueuer,
    DeviceLeases,
    DeviceSettingsSignal,
    DeviceRevocationSignal,
    DeviceRevocation,
    TokenRevocationSignal,
    QueueReconciler,
    WaitingJobRemover,
    SimQuotaCounters,
    EmissionMark,
    PoolChangedSignal,
    PoolRouter,
  ],
  exports: [
    RedisConnections,
    DevicePresence,
    DeviceQueues,
    WorkSignal,
    EnqueuedMarker,
    MessageEnqueuer,
    DeviceLeases,
    DeviceSettingsSignal,
    DeviceRevocationSignal,
    DeviceRevocation,
    TokenRevocationSignal,
    QueueReconciler,
    WaitingJobRemover,
    SimQuotaCounters,
    EmissionMark,
    PoolChangedSignal,
    PoolRouter,
  ],
})
export class QueueingModule {}
