import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { AccountService } from './account.service';
import { PasswordHasher } from './password-hasher';
import { TokenVault } from './token-vault';

@Module({
  imports: [PersistenceModule],
  providers: [AccountService, PasswordHasher, TokenVault],
  exports: [AccountService, PasswordHasher, TokenVault],
})
export class AuthModule {}
