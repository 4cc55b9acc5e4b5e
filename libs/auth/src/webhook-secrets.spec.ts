import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { assertTokenSecretConfigured, ConfigError, loadConfig } from '@smsfleet/config';
import { generateWebhookSecret } from '@smsfleet/webhooks';
import { TokenVault } from './token-vault';
import { isSealedWebhookSecret, WebhookSecrets } from './webhook-secrets';

/** The vault reads the database only for the pre-sealing API token secret: none here. */
const noLegacySecret = { query: async () => [] } as unknown as DataSource;

async function secretsWith(env: Record<string, string>): Promise<WebhookSecrets> {
  const vault = new TokenVault(loadConfig(env), noLegacySecret);
  await vault.onModuleInit();
  return new WebhookSecrets(vault, noLegacySecret);
}

const hex = () => randomBytes(32).toString('hex');

describe('WebhookSecrets', () => {
  it('seals a secret so that the stored value holds no part of it, and opens it again', async () => {
    const secrets = await secretsWith({ TOKEN_SECRET: hex() });
    const secret = generateWebhookSecret();
    const sealed = secrets.seal(secret, 7);
    expect(isSealedWebhookSecret(sealed)).toBe(true);
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(secret.slice('whsec_'.length, 'whsec_'.length + 12));
    expect(secrets.open(sealed, 7)).toEqual({ secret, reseal: false });
    // A fresh IV each time: two seals of one secret differ.
    expect(secrets.seal(secret, 7)).not.toBe(sealed);
  });

  it('opens nothing for another account, another purpose, another key or a tampered value', async () => {
    const tokenSecret = hex();
    const secrets = await secretsWith({ TOKEN_SECRET: tokenSecret });
    const sealed = secrets.seal(generateWebhookSecret(), 7);
    expect(secrets.open(sealed, 8)).toBeUndefined();
    const vault = new TokenVault(loadConfig({ TOKEN_SECRET: tokenSecret }), noLegacySecret);
    await vault.onModuleInit();
    expect(vault.unseal(sealed, 7, 'api-token')).toBeUndefined();
    expect((await secretsWith({ TOKEN_SECRET: hex() })).open(sealed, 7)).toBeUndefined();
    const parts = sealed.split(':');
    const data = Buffer.from(parts[3], 'base64url');
    data[0] ^= 1;
    parts[3] = data.toString('base64url');
    expect(secrets.open(parts.join(':'), 7)).toBeUndefined();
  });

  it('reads a clear secret from before sealing as it is, to be sealed', async () => {
    const secrets = await secretsWith({ TOKEN_SECRET: hex() });
    const clear = generateWebhookSecret();
    expect(isSealedWebhookSecret(clear)).toBe(false);
    expect(secrets.open(clear, 7)).toEqual({ secret: clear, reseal: true });
  });

  it('opens what an earlier TOKEN_SECRET sealed and asks for it to be sealed again', async () => {
    const old = hex();
    const secret = generateWebhookSecret();
    const sealed = (await secretsWith({ TOKEN_SECRET: old })).seal(secret, 3);
    const rotated = await secretsWith({ TOKEN_SECRET: hex(), TOKEN_SECRET_PREVIOUS: old });
    expect(rotated.open(sealed, 3)).toEqual({ secret, reseal: true });
    expect(rotated.open(rotated.seal(secret, 3), 3)).toEqual({ secret, reseal: false });
  });
});

describe('assertTokenSecretConfigured', () => {
  const production = { NODE_ENV: 'production' };

  it('requires TOKEN_SECRET in production for the API and a status app delivering webhooks', () => {
    expect(() => assertTokenSecretConfigured(loadConfig({ ...production, SMSFLEET_APP: 'api' }))).toThrow(
      ConfigError,
    );
    expect(() => assertTokenSecretConfigured(loadConfig({ ...production, SMSFLEET_APP: 'status' }))).toThrow(
      /TOKEN_SECRET is required in production where WEBHOOK_DELIVERY is on/,
    );
    expect(() =>
      assertTokenSecretConfigured(loadConfig({ ...production, SMSFLEET_APP: 'status', TOKEN_SECRET: hex() })),
    ).not.toThrow();
  });

  it('lets a status app that delivers no webhooks start without it, its vault holding no key', async () => {
    const config = loadConfig({ ...production, SMSFLEET_APP: 'status', WEBHOOK_DELIVERY: 'off' });
    expect(() => assertTokenSecretConfigured(config)).not.toThrow();
    const vault = new TokenVault(config, noLegacySecret);
    await vault.onModuleInit();
    expect(() => new WebhookSecrets(vault, noLegacySecret).seal('whsec_x', 1)).toThrow(
      /TOKEN_SECRET is required/,
    );
  });
});
