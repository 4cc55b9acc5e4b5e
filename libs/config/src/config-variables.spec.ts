import { loadConfig } from './app-config';
import { configVariables } from './config-variables';

describe('configVariables', () => {
  it('lists every variable the configuration reads, once, with its default', () => {
    const variables = configVariables();
    const names = variables.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    expect(variables).toEqual(
      expect.arrayContaining([
        { name: 'DATABASE_URL', fallback: 'postgres://postgres@127.0.0.1:5432/smsfleet' },
        { name: 'API_PORT', fallback: '3000' },
        { name: 'LOG_LEVEL', fallback: 'info' },
        { name: 'READINESS_DRAIN_MS', fallback: '0' },
        { name: 'TOKEN_SECRET' },
        { name: 'STORAGE_DRIVER', fallback: 'local' },
        // read whatever the driver, so listed even when unused
        { name: 'S3_BUCKET' },
        { name: 'S3_REGION', fallback: 'us-east-1' },
      ]),
    );
  });

  it('records the real defaults: setting every variable to its listed default changes nothing', () => {
    const env = Object.fromEntries(
      configVariables()
        .filter((v) => v.fallback !== undefined)
        .map((v) => [v.name, v.fallback]),
    );
    expect(Object.keys(env).length).toBeGreaterThan(15);
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });
});
