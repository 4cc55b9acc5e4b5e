import { Module } from '@nestjs/common';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { DeviceAuthenticator } from './device-authenticator.service';
import { DeviceProfileService } from './device-profile.service';
import { DeviceSessions } from './device-sessions.service';
import { DevicesGateway } from './devices.gateway';
import { IncomingSmsService } from './incoming-sms.service';
import { SocketReadinessCheck } from './socket-readiness.check';
import { StatusIntakeService } from './status-intake.service';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('dispatcher'),
    PersistenceModule,
    QueueingModule,
    HealthModule,
  ],
  providers: [
    DevicesGateway,
    DeviceAuthenticator,
    DeviceSessions,
    DeviceProfileService,
    StatusIntakeService,
    IncomingSmsService,
    SocketReadinessCheck,
  ],
})
export class DispatcherModule {}
