import { Module } from '@nestjs/common';
import { AuthModule } from '@smsfleet/auth';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { QueueDashboardModule } from './admin/queue-dashboard.module';
import { TokenController } from './auth/token.controller';
import { CallerService } from './common/caller.service';
import { DeviceRegistrationController } from './devices/device-registration.controller';
import { DeviceRegistrationService } from './devices/device-registration.service';
import { DeviceSettingsController } from './devices/device-settings.controller';
import { DeviceSettingsService } from './devices/device-settings.service';
import { MessageIntakeService } from './messages/message-intake.service';
import { MessageStatusService } from './messages/message-status.service';
import { MessagesController } from './messages/messages.controller';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('api'),
    PersistenceModule,
    QueueingModule,
    AuthModule,
    HealthModule,
    QueueDashboardModule,
  ],
  controllers: [TokenController, MessagesController, DeviceRegistrationController, DeviceSettingsController],
  providers: [
    CallerService,
    MessageIntakeService,
    MessageStatusService,
    DeviceRegistrationService,
    DeviceSettingsService,
  ],
})
export class ApiModule {}
