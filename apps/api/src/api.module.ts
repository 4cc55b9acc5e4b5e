import { Module } from '@nestjs/common';
import { AuthModule } from '@smsfleet/auth';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { QueueDashboardModule } from './admin/queue-dashboard.module';
import { TokenController } from './auth/token.controller';
import { CallerService } from './common/caller.service';
import { ListingGate } from './common/listing-gate';
import { BulkGate } from './messages/bulk-gate';
import { ContactsController } from './contacts/contacts.controller';
import { ContactsService } from './contacts/contacts.service';
import { NewsletterService } from './newsletters/newsletter.service';
import { NewslettersController } from './newsletters/newsletters.controller';
import { fileStorageProvider } from './uploads/file-storage.provider';
import { FilesController } from './uploads/files.controller';
import { ImageUploadService } from './uploads/image-upload.service';
import { UploadRetentionService } from './uploads/upload-retention.service';
import { DeviceAccessController } from './devices/device-access.controller';
import { DeviceRevocationListener } from './devices/device-revocation.listener';
import { TokenRevocationListener } from './auth/token-revocation.listener';
import { DeviceRegistrationController } from './devices/device-registration.controller';
import { DeviceRegistrationService } from './devices/device-registration.service';
import { DeviceSettingsController } from './devices/device-settings.controller';
import { DeviceSettingsService } from './devices/device-settings.service';
import { DeviceViewsService } from './devices/device-views.service';
import { DevicesController } from './devices/devices.controller';
import { MessageListController } from './messages/message-list.controller';
import { MessageListService } from './messages/message-list.service';
import { MessageIntakeService } from './messages/message-intake.service';
import { MessageRouting } from './messages/message-routing';
import { SendCapabilities } from './devices/send-capabilities';
import { MessageInserter } from './messages/message-inserter';
import { IdempotencyKeysService } from './common/idempotency-keys.service';
import { RateLimiter } from './common/rate-limiter';
import { MessageStatusService } from './messages/message-status.service';
import { MessagesController } from './messages/messages.controller';
import { MessageBrowseController } from './messages/message-browse.controller';
import { MessageCancelController } from './messages/message-cancel.controller';
import { MessageCancelService } from './messages/message-cancel.service';
import { MessageBrowseRepository } from './messages/message-browse.repository';
import { SessionController } from './session/session.controller';
import { SessionService } from './session/session.service';
import { SessionsRepository } from './session/sessions.repository';
import { OverviewController } from './overview/overview.controller';
import { OverviewRepository } from './overview/overview.repository';
import { HourlyCounts } from './overview/hourly-counts';
import { DeviceListController } from './devices/device-list.controller';
import { DeviceCountsRepository } from './devices/device-counts.repository';
import { AccountController } from './account/account.controller';
import { AccountRepository } from './account/account.repository';
import { ContactListsController } from './contacts/contact-lists.controller';
import { ContactListsRepository } from './contacts/contact-lists.repository';
import { ContactImportController } from './contacts/contact-import.controller';
import { ContactImportRepository } from './contacts/contact-import.repository';
import { AccountContactsRepository } from './contacts/account-contacts.repository';
import { ContactImportService } from './contacts/contact-import.service';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksRepository } from './webhooks/webhooks.repository';
import { WebhooksService } from './webhooks/webhooks.service';
import { PoolsController } from './pools/pools.controller';
import { PoolsService } from './pools/pools.service';

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
  controllers: [
    TokenController,
    MessagesController,
    MessageListController,
    DevicesController,
    ContactsController,
    NewslettersController,
    FilesController,
    DeviceRegistrationController,
    DeviceSettingsController,
    DeviceAccessController,
    SessionController,
    OverviewController,
    MessageBrowseController,
    MessageCancelController,
    DeviceListController,
    AccountController,
    ContactListsController,
    ContactImportController,
    WebhooksController,
    PoolsController,
  ],
  providers: [
    SendCapabilities,
    CallerService,
    ListingGate,
    BulkGate,
    MessageIntakeService,
    MessageRouting,
    MessageCancelService,
    MessageInserter,
    IdempotencyKeysService,
    RateLimiter,
    MessageStatusService,
    MessageListService,
    DeviceRegistrationService,
    DeviceSettingsService,
    DeviceRevocationListener,
    TokenRevocationListener,
    DeviceViewsService,
    ContactsService,
    NewsletterService,
    ImageUploadService,
    UploadRetentionService,
    fileStorageProvider,
    SessionService,
    SessionsRepository,
    OverviewRepository,
    HourlyCounts,
    MessageBrowseRepository,
    DeviceCountsRepository,
    AccountRepository,
    ContactListsRepository,
    ContactImportRepository,
    AccountContactsRepository,
    ContactImportService,
    WebhooksRepository,
    WebhooksService,
    PoolsService,
  ],
})
export class ApiModule {}
