export * from './account.service';
export * from './auth.module';
export * from './password-hasher';
export * from './secret-hash';
export * from './token-vault';
export * from './ttl-cache';
export * from './phone-registration-tokens';
export * from './webhook-secrets';
