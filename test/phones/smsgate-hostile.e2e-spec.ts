import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { reportFigure } from '../helpers/figures';
import { startApps } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { SmsGateApp } from '../../tools/simulator/smsgate/smsgate-app';

const RUNS = 600;
const ROUTES: Array<[string, string]> = [
  ['POST', '/device'],
  ['PATCH', '/device'],
  ['GET', '/device'],
  ['GET', '/message'],
  ['PATCH', '/message'],
  ['GET', '/settings'],
  ['GET', '/webhooks'],
  ['POST', '/webhooks/incoming'],
  ['DELETE', '/message'],
  ['GET', '/nosuch'],
];
const STATES = ['Pending', 'Processed', 'Sent', 'Delivered', 'Failed', 'Cancelled', 'Bogus', '', null];

/** Values shaped like the app's fields, and anything else. */
const anyValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('\u0000', '\ud800', 'x'.repeat(70_000), '9'.repeat(40), '-1', '1e309'),
  fc.anything({ maxDepth: 2 }),
);
const stateReport = fc.record(
  {
    id: fc.oneof(fc.constantFrom('1', '2', '999999999999', '0', '-5', '1.5'), anyValue),
    state: fc.oneof(fc.constantFrom(...STATES), anyValue),
    recipients: fc.oneof(
      fc.array(
        fc.record(
          { phoneNumber: anyValue, state: fc.constantFrom(...STATES), error: anyValue },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      anyValue,
    ),
    states: fc.oneof(
      fc.dictionary(fc.constantFrom(...STATES.map(String)), anyValue, { maxKeys: 3 }),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);
const deviceBody = fc.record(
  {
    id: anyValue,
    name: anyValue,
    pushToken: anyValue,
    simCards: fc.oneof(
      fc.array(
        fc.record(
          {
            slotIndex: anyValue,
            simNumber: anyValue,
            phoneNumber: anyValue,
            carrierName: anyValue,
            iccid: anyValue,
          },
          { requiredKeys: [] },
        ),
        { maxLength: 10 },
      ),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);
const webhookBody = fc.record(
  {
    id: anyValue,
    webhookId: anyValue,
    event: fc.oneof(fc.constant('sms:received'), anyValue),
    deviceId: anyValue,
    payload: fc.oneof(
      fc.record(
        { sender: anyValue, message: anyValue, simNumber: anyValue, receivedAt: anyValue },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);

/**
 * Hostile input on every `/mobile/v1` route and the webhook receiver: generated bodies, headers, tokens
 * and raw bytes. Every answer is 2xx or a 4xx with a JSON error (never a 5xx), nothing is half-written,
 * the dispatcher stays up and its phones keep working.
 */
describe('hostile input on the SMSGate routes', () => {
  let system: TestSystem;
  let account: Account;
  let app: SmsGateApp;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher', 'status']);
    account = system.createAccount();
    ({
      apps: [app],
    } = await startApps(system, account, 1));
  }, 120_000);

  afterAll(async () => {
    app?.stop();
    await system?.stop();
  });

  it('answers every generated request with 2xx or a JSON 4xx, and stores nothing it refused', async () => {
    const validToken = app.registration?.token as string;
    const signingKey = (
      (await (
        await fetch(`${system.dispatcherUrl}/mobile/v1/settings`, {
          headers: { authorization: `Bearer ${validToken}` },
        })
      ).json()) as { webhooks: { signing_key: string } }
    ).webhooks.signing_key;
    const devicesBefore = (await system.query(`SELECT id FROM devices ORDER BY id`)).length;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.oneof(
          stateReport.map((r) => [r]),
          fc.array(stateReport, { maxLength: 3 }),
          deviceBody,
          webhookBody,
          anyValue,
        ),
        fc.constantFrom('valid', 'none', 'garbage', 'basic', 'long'),
        fc.constantFrom('json', 'raw', 'signed', 'stale', 'form'),
        fc.string({ maxLength: 30 }),
        async ([method, path], body, auth, encoding, junk) => {
          const text =
            encoding === 'raw'
              ? `${junk}{`
              : encoding === 'form'
                ? `a=${encodeURIComponent(junk)}`
                : (JSON.stringify(body) ?? 'null');
          const headers: Record<string, string> = {
            'content-type': encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
          };
          if (auth === 'valid') headers.authorization = `Bearer ${validToken}`;
          if (auth === 'garbage')
            headers.authorization = `Bearer ${junk.replace(/[^\x21-\x7e]/g, '') || 'x'}`;
          if (auth === 'basic') headers.authorization = 'Basic dXNlcjpwYXNz';
          if (auth === 'long') headers.authorization = `Bearer ${'a'.repeat(5_000)}`;
          if (encoding === 'signed' || encoding === 'stale') {
            const timestamp = String(Math.floor(Date.now() / 1000) - (encoding === 'stale' ? 3_600 : 0));
            headers['x-timestamp'] = timestamp;
            headers['x-signature'] = createHmac('sha256', signingKey)
              .update(text + timestamp)
              .digest('hex');
          }
          const response = await fetch(`${system.dispatcherUrl}/mobile/v1${path}`, {
            method,
            headers,
            ...(method === 'GET' ? {} : { body: text }),
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const answer = await response.text();
          if (response.status >= 500)
            failures.push(`${method} ${path} → ${response.status} ${answer.slice(0, 200)}`);
          if (response.status >= 400) {
            const parsed = JSON.parse(answer) as { message?: unknown; code?: unknown };
            if (typeof parsed.message !== 'string' || typeof parsed.code !== 'string')
              failures.push(
                `${method} ${path} → ${response.status} without the error shape: ${answer.slice(0, 200)}`,
              );
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(failures).toEqual([]);
    // Registrations need the account's registration token, which no generated request had.
    expect((await system.query(`SELECT id FROM devices`)).length).toBe(devicesBefore);
    // Incoming SMS: only a well-formed, freshly signed one of this device could be stored, never a stale one.
    const stored = await system.query<{ body: string }>(`SELECT body FROM messages WHERE status = 5`);
    for (const row of stored) expect(typeof row.body).toBe('string');
    const live = await fetch(`${system.dispatcherUrl}/health/live`);
    expect(live.status).toBe(200);
    reportFigure('smsgate-hostile', { requests: RUNS, statuses: Object.fromEntries(statuses) });
  }, 300_000);
});
