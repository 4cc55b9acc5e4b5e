import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

/** argon2id for account passwords (never for tokens: those are random and hashed with SHA-256). */
@Injectable()
export class PasswordHasher {
  // A real hash to verify against when the account does not exist, so both answers take as long.
  private readonly decoy = argon2.hash('smsfleet-decoy-password', { type: argon2.argon2id });

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id });
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      await argon2.verify(await this.decoy, password).catch(() => false);
      return false;
    }
    return argon2.verify(hash, password).catch(() => false);
  }
}
