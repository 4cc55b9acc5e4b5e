import { AppConfig } from './app-config';
import { ConfigError } from './config-error';

/**
 * Whether this process seals or opens anything with TOKEN_SECRET: the API and the CLI (API tokens, phone
 * registration tokens, webhook secrets) and a status app that delivers webhooks (it opens their sealed
 * secrets to sign). A status deployment with WEBHOOK_DELIVERY=off opens nothing and needs no secret.
 */
export function needsTokenSecret(config: AppConfig): boolean {
  return config.app !== 'status' || config.webhooks.delivery;
}

/**
 * The production start-up check: where TOKEN_SECRET is needed it must be set (elsewhere a development
 * secret is generated, libs/auth). Called by the apps' start-up, so a missing secret stops them in one line.
 */
export function assertTokenSecretConfigured(config: AppConfig): void {
  if (config.nodeEnv === 'production' && config.tokenSecret === undefined && needsTokenSecret(config))
    throw new ConfigError(
      'TOKEN_SECRET',
      config.app === 'status'
        ? 'is required in production where WEBHOOK_DELIVERY is on (it opens the sealed webhook secrets): set the API\'s TOKEN_SECRET (docs/operations.md, "API tokens")'
        : 'is required in production: generate one with openssl rand -hex 32 (docs/operations.md, "API tokens")',
    );
}
