import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { AccountService } from './account.service';
import { PasswordHasher } from './password-hasher';
import { PhoneRegistrationTokens } from './phone-registration-tokens';
import { TokenDeriver } from './token-deriver';

@Module({
  imports: [PersistenceModule],
  providers: [AccountService, PasswordHasher, TokenDeriver, PhoneRegistrationTokens],
  exports: [AccountService, PasswordHasher, PhoneRegistrationTokens],
})
export class AuthModule {}
