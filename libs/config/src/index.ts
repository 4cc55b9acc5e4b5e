export * from './app-config';
export * from './config-error';
export * from './database-ssl';
export * from './redis-settings';
export * from './config.module';
export * from './bootstrap';
export * from './config-variables';
export * from './token-secret-check';
