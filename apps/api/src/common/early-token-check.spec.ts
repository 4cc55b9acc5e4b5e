import Fastify from 'fastify';
import type { Account } from '@smsfleet/auth';
import type { AppConfig } from '@smsfleet/config';
import { BulkGate, gateBulksBeforeTheirBodies } from '../messages/bulk-gate';
import { CallerBeforeBody, checkTokenBeforeLargeBodies } from './early-token-check';

const GOOD = 'a'.repeat(64);

describe('the caller before the body', () => {
  it('is looked up once for both the token check and the bulk gate', async () => {
    const lookups: string[] = [];
    const callers = new CallerBeforeBody(async (token) => {
      lookups.push(token);
      return token === GOOD ? ({ id: 7, email: 'a@example.com', timezone: 'UTC' } as Account) : null;
    });
    const gate = new BulkGate({ api: { bulksPerAccount: 1 } } as AppConfig);
    const app = Fastify();
    checkTokenBeforeLargeBodies(app, { bodyLimitOf: () => 16 * 1_048_576, callers });
    gateBulksBeforeTheirBodies(app, { routes: new Set(['/bulk']), gate, callers });
    app.post('/bulk', async () => ({ holding: gate.runningFor(7) }));
    // A real server (light-my-request's inject loads an ES module jest cannot).
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, { method: 'POST', headers });
    try {
      expect(await (await post(`/bulk?token=${GOOD}`)).json()).toEqual({ holding: 1 });
      expect(lookups).toEqual([GOOD]);
      const bearer = await post('/bulk', { authorization: `Bearer ${GOOD}` });
      expect(await bearer.json()).toEqual({ holding: 1 });
      expect((await post(`/bulk?token=${'b'.repeat(64)}`)).status).not.toBe(200);
      expect(lookups).toEqual([GOOD, GOOD, 'b'.repeat(64)]);
      // No token outside the body: nothing to look up (it is read from the body later).
      expect((await post('/bulk')).status).toBe(200);
      expect(lookups).toHaveLength(3);
    } finally {
      await app.close();
    }
  });
});
