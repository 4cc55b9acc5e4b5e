import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { AccountService } from './account.service';
import { PasswordHasher } from './password-hasher';
import { TokenDeriver } from './token-deriver';

@Module({
  imports: [PersistenceModule],
  providers: [AccountService, PasswordHasher, TokenDeriver],
  exports: [AccountService, PasswordHasher],
})
export class AuthModule {}
