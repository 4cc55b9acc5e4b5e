import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { AccountService } from './account.service';
import { PasswordHasher } from './password-hasher';
import { PhoneRegistrationTokens } from './phone-registration-tokens';
import { TokenVault } from './token-vault';
import { WebhookSecrets } from './webhook-secrets';

@Module({
  imports: [PersistenceModule],
  providers: [AccountService, PasswordHasher, TokenVault, PhoneRegistrationTokens, WebhookSecrets],
  exports: [AccountService, PasswordHasher, TokenVault, PhoneRegistrationTokens, WebhookSecrets],
})
export class AuthModule {}
