import { Module } from '@nestjs/common';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { DeviceAuthenticator } from './device-authenticator';
import { DeviceProfileService } from './device-profile.service';
import { DevicesGateway } from './devices.gateway';
import { IncomingSmsService } from './incoming-sms.service';
import { AddressWindows } from './limits/address-windows';
import { PhoneLimits } from './limits/phone-limits';
import { SessionLeases } from './sessions/session-leases';
import { SessionPresence } from './sessions/session-presence';
import { SessionRegistry } from './sessions/session-registry';
import { DeviceSignalRouter } from './sessions/signal-router';
import { SMSGATE_CONTROLLERS, SMSGATE_PROVIDERS } from './smsgate/smsgate.providers';
import { SimQuotaGate } from './limits/sim-quota-gate';
import { SocketReadinessCheck } from './socket-readiness.check';
import { StatusIntakeService } from './status-intake.service';
import { StatusInboxRepository } from './status-inbox.repository';
import { StatusReportBatcher } from './status-report-batcher';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('dispatcher'),
    PersistenceModule,
    QueueingModule,
    HealthModule,
  ],
  controllers: [...SMSGATE_CONTROLLERS],
  providers: [
    DevicesGateway,
    DeviceAuthenticator,
    AddressWindows,
    PhoneLimits,
    SessionRegistry,
    SimQuotaGate,
    SessionLeases,
    SessionPresence,
    DeviceSignalRouter,
    DeviceProfileService,
    StatusIntakeService,
    IncomingSmsService,
    StatusReportBatcher,
    StatusInboxRepository,
    SocketReadinessCheck,
    ...SMSGATE_PROVIDERS,
  ],
})
export class DispatcherModule {}
