import { randomBytes } from 'node:crypto';
import { verifySignature } from '@smsfleet/webhooks';
import { registerPhone } from '../../tools/simulator/fleet';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';
import { Json, v1Call } from '../helpers/api-client';
import { independentlyVerified, Receiver } from '../helpers/webhook-receiver';

describe('webhooks: subscriptions and delivery to real receivers', () => {
  let system: TestSystem;
  let receiver: Receiver;
  let alice: Account;
  let bob: Account;
  let aliceDevice: number;
  let bobDevice: number;

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    system = await TestSystem.start(['api', 'status'], {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_BASE_SECONDS: '1',
      WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
      WEBHOOK_TIMEOUT_SECONDS: '1',
      WEBHOOK_POLL_MS: '100',
      WEBHOOKS_MAX_PER_ACCOUNT: '12',
    });
    alice = system.createAccount();
    bob = system.createAccount();
    aliceDevice = (await registerPhone(system.apiUrl, alice.email, alice.password, 'a')).deviceId;
    bobDevice = (await registerPhone(system.apiUrl, bob.email, bob.password, 'b')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
    await receiver?.stop();
  });

  const call = (account: Account, method: string, path: string, body?: unknown, base = system.apiUrl) =>
    v1Call(base, account, method, path, body);
  const create = async (path: string, extra: Record<string, unknown> = {}) => {
    const answer = await call(alice, 'POST', '/v1/webhooks', {
      url: receiver.url(path),
      events: ['message.sent', 'message.delivered'],
      ...extra,
    });
    expect(answer.status).toBe(200);
    return answer.body.webhook as { id: number; secret: string };
  };
  const deliveries = async (id: number) =>
    (await call(alice, 'GET', `/v1/webhooks/${id}/deliveries`)).body.deliveries as Json[];
  const testEvent = async (id: number) => {
    const answer = await call(alice, 'POST', `/v1/webhooks/${id}/test`);
    expect(answer.status).toBe(200);
    return answer.body.event_id as string;
  };

  it('creates, lists, reads, updates, pauses, resumes and deletes a subscription; the secret is shown once', async () => {
    const created = await call(alice, 'POST', '/v1/webhooks', {
      url: receiver.url('/crud'),
      events: ['message.sent', 'message.failed', 'message.sent'],
      device_ids: [aliceDevice],
      description: 'crm',
    });
    expect(created.status).toBe(200);
    const hook = created.body.webhook;
    expect(hook).toMatchObject({
      url: receiver.url('/crud'),
      events: ['message.sent', 'message.failed'],
      device_ids: [aliceDevice],
      description: 'crm',
      state: 'active',
    });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

    const read = await call(alice, 'GET', `/v1/webhooks/${hook.id}`);
    expect(read.body.webhook).toEqual({ ...hook, secret: undefined, updated_at: expect.any(String) });
    expect(JSON.stringify((await call(alice, 'GET', '/v1/webhooks')).body)).not.toContain(hook.secret);

    const paused = await call(alice, 'PATCH', `/v1/webhooks/${hook.id}`, { paused: true, device_ids: [] });
    expect(paused.body.webhook).toMatchObject({ state: 'paused', device_ids: null });
    const updated = await call(alice, 'POST', `/v1/webhooks/${hook.id}`, {
      events: 'message.delivered,device.online',
      paused: 0,
    });
    expect(updated.body.webhook).toMatchObject({
      state: 'active',
      events: ['message.delivered', 'device.online'],
    });

    expect((await call(alice, 'DELETE', `/v1/webhooks/${hook.id}`)).body).toEqual({
      error: 0,
      message: 'OK',
      webhook_id: hook.id,
    });
    expect((await call(alice, 'GET', `/v1/webhooks/${hook.id}`)).status).toBe(404);
  });

  it('refuses bad input with a validation error naming the field, never echoing a URL', async () => {
    const bad: Array<[unknown, string]> = [
      [{ events: ['message.sent'] }, 'url is required'],
      [{ url: 'ftp://example.com/', events: ['message.sent'] }, 'url must be'],
      [{ url: 'https://user:secret-token@example.com/', events: ['message.sent'] }, 'user name'],
      [{ url: 'https://example.com/#x', events: ['message.sent'] }, 'fragment'],
      [{ url: `https://example.com/${'a'.repeat(2100)}`, events: ['message.sent'] }, 'too long'],
      [{ url: 'http://169.254.169.254/latest', events: ['message.sent'] }, 'cloud metadata'],
      [{ url: 'https://example.com/' }, 'events is required'],
      [{ url: 'https://example.com/', events: [] }, 'at least one'],
      [{ url: 'https://example.com/', events: ['message.exploded'] }, 'events must be one of'],
      [{ url: 'https://example.com/', events: [{ a: 1 }] }, 'events must be one of'],
      [
        { url: 'https://example.com/', events: 'message.sent', device_ids: [bobDevice] },
        'not among your devices',
      ],
      [{ url: 'https://example.com/', events: 'message.sent', device_ids: ['x'] }, 'device_ids must be'],
      [{ url: ['https://example.com/'], events: 'message.sent' }, 'url must be text'],
      [{ url: 'https://example.com/', events: 'message.sent', batch_size: 0 }, 'batch_size must be'],
      [{ url: 'https://example.com/', events: 'message.sent', batch_size: 101 }, 'batch_size must be'],
      [{ url: 'https://example.com/', events: 'message.sent', batch_size: 2.5 }, 'batch_size must be'],
    ];
    for (const [body, message] of bad) {
      const answer = await call(alice, 'POST', '/v1/webhooks', body);
      expect([answer.status, answer.body.code]).toEqual([400, 'validation']);
      expect(answer.body.message).toContain(message);
      expect(answer.body.message).not.toContain('secret-token');
    }
    const before = (await call(alice, 'GET', '/v1/webhooks')).body.webhooks.length;
    expect(before).toBe(0);
  });

  it('caps subscriptions per account', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push((await create(`/cap-${i}`)).id);
    const over = await call(alice, 'POST', '/v1/webhooks', {
      url: receiver.url('/cap-x'),
      events: 'message.sent',
    });
    expect([over.status, over.body.code]).toEqual([400, 'validation']);
    expect(over.body.message).toContain('at most 12');
    for (const id of ids) await call(alice, 'DELETE', `/v1/webhooks/${id}`);
  });

  it('another account’s subscription is not found on every route', async () => {
    const hook = await create('/isolation');
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/v1/webhooks/${hook.id}`],
      ['POST', `/v1/webhooks/${hook.id}`, { paused: true }],
      ['PATCH', `/v1/webhooks/${hook.id}`, { paused: true }],
      ['DELETE', `/v1/webhooks/${hook.id}`],
      ['POST', `/v1/webhooks/${hook.id}/secret`],
      ['GET', `/v1/webhooks/${hook.id}/deliveries`],
      ['POST', `/v1/webhooks/${hook.id}/redeliver`],
      ['POST', `/v1/webhooks/${hook.id}/test`],
    ];
    for (const [method, path, body] of routes) {
      const answer = await call(bob, method, path, body);
      expect([method, path, answer.status, answer.body.code]).toEqual([method, path, 404, 'not_found']);
    }
    expect((await call(bob, 'GET', '/v1/webhooks')).body.webhooks).toEqual([]);
    expect((await call(alice, 'GET', `/v1/webhooks/${hook.id}`)).body.webhook.paused).toBe(false);
    expect((await call(alice, 'GET', '/v1/webhooks/abc')).status).toBe(404);
    await call(alice, 'DELETE', `/v1/webhooks/${hook.id}`);
  });

  it('lists every webhook route in the OpenAPI document', async () => {
    const document = (await (await fetch(`${system.apiUrl}/docs-json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes: Array<[string, string]> = [
      ['/v1/webhooks', 'post'],
      ['/v1/webhooks', 'get'],
      ['/v1/webhooks/{id}', 'get'],
      ['/v1/webhooks/{id}', 'post'],
      ['/v1/webhooks/{id}', 'patch'],
      ['/v1/webhooks/{id}', 'delete'],
      ['/v1/webhooks/{id}/secret', 'post'],
      ['/v1/webhooks/{id}/deliveries', 'get'],
      ['/v1/webhooks/{id}/redeliver', 'post'],
      ['/v1/webhooks/{id}/test', 'post'],
    ];
    for (const [path, method] of routes)
      expect([path, method, document.paths[path]?.[method] !== undefined]).toEqual([path, method, true]);
  });

  it('a test event reaches the receiver, signed so that it verifies (our check and an independent one)', async () => {
    const hook = await create('/signed');
    const eventId = await testEvent(hook.id);
    await waitFor('test event', async () => receiver.at('/signed').length === 1, 10_000);
    const [got] = receiver.at('/signed');
    const event = JSON.parse(got.body);
    expect(event).toMatchObject({ id: eventId, type: 'webhook.test', data: { webhook_id: hook.id } });
    expect(got.headers['smsfleet-event-id']).toBe(eventId);
    expect(got.headers['content-type']).toBe('application/json');
    const header = got.headers['smsfleet-signature'] as string;
    expect(verifySignature(header, got.body, [hook.secret])).toMatchObject({ ok: true });
    expect(independentlyVerified(header, got.body, hook.secret)).toBe(true);
    expect(independentlyVerified(header, got.body, 'whsec_wrong')).toBe(false);
    await waitFor('delivered', async () => (await deliveries(hook.id))[0]?.status === 'delivered', 5_000);
    expect((await deliveries(hook.id))[0]).toMatchObject({
      event_id: eventId,
      event_type: 'webhook.test',
      attempts: 1,
      last_status_code: 204,
      last_latency_ms: expect.any(Number),
      next_attempt_at: null,
    });
  });

  it('batches: up to batch_size events per POST, signed whole; a failed batch is sent again whole', async () => {
    const hook = await create('/batched', { batch_size: 10, paused: true });
    expect((await call(alice, 'GET', `/v1/webhooks/${hook.id}`)).body.webhook.batch_size).toBe(10);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await testEvent(hook.id));
    // The first POST fails: its events are retried, together, after the backoff.
    receiver.script('/batched', [{ status: 500 }, { status: 204 }]);
    expect((await call(alice, 'PATCH', `/v1/webhooks/${hook.id}`, { paused: false })).status).toBe(200);
    await waitFor(
      'every event delivered',
      async () => (await deliveries(hook.id)).filter((d) => d.status === 'delivered').length === 25,
      20_000,
    );
    const posts = receiver.at('/batched').map((got) => {
      const header = got.headers['smsfleet-signature'] as string;
      expect(independentlyVerified(header, got.body, hook.secret)).toBe(true);
      const events = (JSON.parse(got.body) as { events: Array<{ id: string; type: string }> }).events;
      expect(events.every((event) => event.type === 'webhook.test')).toBe(true);
      expect(got.headers['smsfleet-event-id']).toBe(events.map((event) => event.id).join(','));
      return events.map((event) => event.id);
    });
    expect(posts.every((events) => events.length >= 1 && events.length <= 10)).toBe(true);
    // 25 events in at most 3 POSTs, and the failed one's events once more in one POST.
    const [failed, ...accepted] = posts;
    expect(accepted.length).toBeLessThanOrEqual(4);
    expect(accepted.flat().sort()).toEqual(ids.sort());
    expect(accepted.some((events) => [...events].sort().join() === [...failed].sort().join())).toBe(true);
    const rows = await deliveries(hook.id);
    expect(rows.filter((d) => failed.includes(d.event_id)).every((d) => d.attempts === 2)).toBe(true);
  });

  it('a rotated secret: both signatures are sent during the grace period', async () => {
    const hook = await create('/rotated');
    const rotated = await call(alice, 'POST', `/v1/webhooks/${hook.id}/secret`, { grace_seconds: 3600 });
    const secret = rotated.body.webhook.secret as string;
    expect(secret).not.toBe(hook.secret);
    expect(rotated.body.webhook.previous_secret_expires_at).toEqual(expect.any(String));
    await testEvent(hook.id);
    await waitFor('rotated event', async () => receiver.at('/rotated').length === 1, 10_000);
    const [got] = receiver.at('/rotated');
    const header = got.headers['smsfleet-signature'] as string;
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verifySignature(header, got.body, [secret]).ok).toBe(true);
    expect(verifySignature(header, got.body, [hook.secret]).ok).toBe(true);
    // No grace: the old secret stops signing at once.
    await call(alice, 'POST', `/v1/webhooks/${hook.id}/secret`, { grace_seconds: 0 });
    await testEvent(hook.id);
    await waitFor('second event', async () => receiver.at('/rotated').length === 2, 10_000);
    expect(receiver.at('/rotated')[1].headers['smsfleet-signature']?.toString().match(/v1=/g)).toHaveLength(
      1,
    );
  });

  describe('secrets sealed at rest (ADR 0905)', () => {
    const stored = async (id: number) =>
      (
        await system.query<{ secret: string; previous_secret: string | null }>(
          `SELECT secret, previous_secret FROM webhooks WHERE id = $1`,
          [id],
        )
      )[0];
    /** Neither the secret nor any 12 characters of its random part are in the stored text. */
    const expectHidden = (text: string | null, secrets: string[]) => {
      for (const secret of secrets) {
        expect(text ?? '').not.toContain(secret);
        expect(text ?? '').not.toContain(secret.slice(6, 18));
      }
    };
    const verifiesWith = async (id: number, path: string, count: number, secrets: string[]) => {
      await testEvent(id);
      await waitFor(`event ${count} at ${path}`, async () => receiver.at(path).length === count, 10_000);
      const got = receiver.at(path)[count - 1];
      const header = got.headers['smsfleet-signature'] as string;
      for (const secret of secrets) {
        expect(verifySignature(header, got.body, [secret]).ok).toBe(true);
        expect(independentlyVerified(header, got.body, secret)).toBe(true);
      }
      return header;
    };
    const legacySecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

    it('the stored columns never hold the secret shown at creation or after rotation; deliveries verify', async () => {
      const hook = await create('/sealed');
      const atCreation = await stored(hook.id);
      expect(atCreation.secret).toMatch(/^v1:[0-9a-f]{8}:/);
      expectHidden(atCreation.secret, [hook.secret]);
      await verifiesWith(hook.id, '/sealed', 1, [hook.secret]);

      const rotated = await call(alice, 'POST', `/v1/webhooks/${hook.id}/secret`, { grace_seconds: 3600 });
      const secret = rotated.body.webhook.secret as string;
      const afterRotation = await stored(hook.id);
      expect(afterRotation.previous_secret).toMatch(/^v1:[0-9a-f]{8}:/);
      expectHidden(afterRotation.secret, [hook.secret, secret]);
      expectHidden(afterRotation.previous_secret, [hook.secret, secret]);
      const header = await verifiesWith(hook.id, '/sealed', 2, [secret, hook.secret]);
      expect(header.match(/v1=/g)).toHaveLength(2);
      await call(alice, 'DELETE', `/v1/webhooks/${hook.id}`); // under the account's cap for later tests
    });

    it('a row from before sealing (secrets in clear) still delivers, and is sealed on use and on rotation', async () => {
      const hook = await create('/legacy');
      const [secret, previous] = [legacySecret(), legacySecret()];
      await system.query(
        `UPDATE webhooks SET secret = $2, previous_secret = $3, previous_secret_expires_at = now() + interval '1 hour'
          WHERE id = $1`,
        [hook.id, secret, previous],
      );
      await verifiesWith(hook.id, '/legacy', 1, [secret, previous]);
      await waitFor(
        'both secrets sealed by the worker',
        async () => {
          const row = await stored(hook.id);
          return row.secret.startsWith('v1:') && row.previous_secret?.startsWith('v1:') === true;
        },
        10_000,
      );
      const sealed = await stored(hook.id);
      expectHidden(sealed.secret, [secret, previous]);
      expectHidden(sealed.previous_secret, [secret, previous]);
      // Sealed, they sign as before.
      await verifiesWith(hook.id, '/legacy', 2, [secret, previous]);

      // A rotation of a clear row keeps the outgoing secret sealed.
      const clear = legacySecret();
      await system.query(`UPDATE webhooks SET secret = $2, previous_secret = NULL WHERE id = $1`, [
        hook.id,
        clear,
      ]);
      const rotated = await call(alice, 'POST', `/v1/webhooks/${hook.id}/secret`, { grace_seconds: 60 });
      const row = await stored(hook.id);
      expect(row.previous_secret).toMatch(/^v1:/);
      expectHidden(row.previous_secret, [clear]);
      expectHidden(row.secret, [rotated.body.webhook.secret]);
      await verifiesWith(hook.id, '/legacy', 3, [rotated.body.webhook.secret, clear]);
      await call(alice, 'DELETE', `/v1/webhooks/${hook.id}`);
    });

    it('cli webhooks:reseal seals clear rows and names those no key opens, whose deliveries fail with why', async () => {
      const clearHook = await create('/resealed');
      const lostHook = await create('/lost');
      const [secret, previous] = [legacySecret(), legacySecret()];
      await system.query(
        `UPDATE webhooks SET secret = $2, previous_secret = $3, previous_secret_expires_at = now() + interval '1 hour'
          WHERE id = $1`,
        [clearHook.id, secret, previous],
      );
      // Sealed under a TOKEN_SECRET this installation no longer has.
      const lost = `v1:00000000:${randomBytes(12).toString('base64url')}:${randomBytes(40).toString('base64url')}:${randomBytes(16).toString('base64url')}`;
      await system.query(`UPDATE webhooks SET secret = $2 WHERE id = $1`, [lostHook.id, lost]);

      const run = system.cliResult('webhooks:reseal');
      expect(run.status).toBe(2);
      const report = JSON.parse(run.stdout.trim()) as {
        webhooks: number;
        sealed: number;
        unopened: number[];
      };
      expect(report.sealed).toBe(2);
      expect(report.unopened).toEqual([lostHook.id]);
      const row = await stored(clearHook.id);
      expect(row.secret).toMatch(/^v1:/);
      expectHidden(row.secret, [secret, previous]);
      expectHidden(row.previous_secret, [secret, previous]);
      await verifiesWith(clearHook.id, '/resealed', 1, [secret, previous]);
      // Nothing left to seal: a second run changes nothing.
      expect(JSON.parse(system.cliResult('webhooks:reseal').stdout.trim())).toMatchObject({ sealed: 0 });

      await testEvent(lostHook.id);
      await waitFor(
        'the unopened secret fails the delivery with the reason',
        async () => /no longer configured/.test((await deliveries(lostHook.id))[0]?.last_error ?? ''),
        10_000,
      );
      expect(receiver.at('/lost')).toHaveLength(0);
      expect((await call(alice, 'DELETE', `/v1/webhooks/${lostHook.id}`)).status).toBe(200);
      await call(alice, 'DELETE', `/v1/webhooks/${clearHook.id}`);
    });
  });

  it('500 then 200: delivered after a retry, with the same event id', async () => {
    receiver.script('/flaky', [{ status: 500 }, { status: 500 }, { status: 200 }]);
    const hook = await create('/flaky');
    const eventId = await testEvent(hook.id);
    await waitFor('three attempts', async () => receiver.at('/flaky').length >= 3, 20_000);
    await waitFor('delivered', async () => (await deliveries(hook.id))[0]?.status === 'delivered', 5_000);
    expect(receiver.at('/flaky').map((r) => r.headers['smsfleet-event-id'])).toEqual([
      eventId,
      eventId,
      eventId,
    ]);
    expect((await deliveries(hook.id))[0]).toMatchObject({
      attempts: 3,
      last_status_code: 200,
      last_error: null,
    });
    expect((await call(alice, 'GET', `/v1/webhooks/${hook.id}`)).body.webhook.failing_since).toBeNull();
  });

  it('a receiver slower than the timeout is retried', async () => {
    receiver.script('/slow', [{ status: 200, delayMs: 2_500 }, { status: 200 }]);
    const hook = await create('/slow');
    await testEvent(hook.id);
    await waitFor('delivered', async () => (await deliveries(hook.id))[0]?.status === 'delivered', 20_000);
    expect(receiver.at('/slow').length).toBe(2);
    expect((await deliveries(hook.id))[0].attempts).toBe(2);
  });

  it('410 Gone disables the subscription with the reason; resuming sends again', async () => {
    receiver.script('/gone', [{ status: 410 }, { status: 200 }]);
    const hook = await create('/gone');
    await testEvent(hook.id);
    await waitFor(
      'disabled',
      async () => (await call(alice, 'GET', `/v1/webhooks/${hook.id}`)).body.webhook.state === 'disabled',
      10_000,
    );
    const webhook = (await call(alice, 'GET', `/v1/webhooks/${hook.id}`)).body.webhook;
    expect(webhook.disabled_reason).toBe('the receiver answered 410 Gone');
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: 'failed', last_status_code: 410 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.at('/gone').length).toBe(1);
    await call(alice, 'POST', `/v1/webhooks/${hook.id}`, { paused: false });
    await waitFor('delivered', async () => (await deliveries(hook.id))[0]?.status === 'delivered', 10_000);
  });

  it('a batch answered 410 disables its subscription, and every event it carried fails with why', async () => {
    receiver.script('/gone-batch', [{ status: 410 }]);
    const hook = await create('/gone-batch', { batch_size: 10, paused: true });
    for (let i = 0; i < 5; i++) await testEvent(hook.id);
    expect((await call(alice, 'PATCH', `/v1/webhooks/${hook.id}`, { paused: false })).status).toBe(200);
    await waitFor(
      'every event failed',
      async () => (await deliveries(hook.id)).filter((d) => d.last_status_code === 410).length === 5,
      10_000,
    );
    const webhook = (await call(alice, 'GET', `/v1/webhooks/${hook.id}`)).body.webhook;
    expect(webhook).toMatchObject({ state: 'disabled', disabled_reason: 'the receiver answered 410 Gone' });
    expect((await deliveries(hook.id)).map((d) => d.status)).toEqual(Array(5).fill('failed'));
    expect(receiver.at('/gone-batch').length).toBe(1);
  });

  it('redelivers one delivery, or every failed one, with the same event id', async () => {
    const hook = await create('/again');
    const eventId = await testEvent(hook.id);
    await waitFor('delivered', async () => (await deliveries(hook.id))[0]?.status === 'delivered', 10_000);
    const [delivery] = await deliveries(hook.id);
    const one = await call(alice, 'POST', `/v1/webhooks/${hook.id}/redeliver`, { delivery_id: delivery.id });
    expect(one.body).toEqual({ error: 0, message: 'OK', redelivered: 1 });
    await waitFor('redelivered', async () => receiver.at('/again').length === 2, 10_000);
    expect(receiver.at('/again').map((r) => r.headers['smsfleet-event-id'])).toEqual([eventId, eventId]);
    const none = await call(alice, 'POST', `/v1/webhooks/${hook.id}/redeliver`);
    expect(none.body.redelivered).toBe(0);
    const missing = await call(alice, 'POST', `/v1/webhooks/${hook.id}/redeliver`, { delivery_id: 999_999 });
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found']);
  });

  it('two status replicas never send the same delivery twice', async () => {
    await system.startApp('status', 'status-b');
    try {
      const hook = await create('/replicas');
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) ids.push(await testEvent(hook.id));
      await waitFor('all delivered', async () => receiver.at('/replicas').length >= 40, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const got = receiver.at('/replicas').map((r) => r.headers['smsfleet-event-id'] as string);
      expect(got.length).toBe(40);
      expect(got.sort()).toEqual(ids.sort());
    } finally {
      await system.stopApp('status-b');
    }
  });

  it('WEBHOOK_DELIVERY=off: a status replica that only applies reports sends nothing; one with it on does', async () => {
    await system.stopApp('status');
    await system.startApp('status', 'status-off', { WEBHOOK_DELIVERY: 'off' });
    try {
      const hook = await create('/off');
      await testEvent(hook.id);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(receiver.at('/off')).toEqual([]);
      expect((await deliveries(hook.id))[0]?.attempts).toBe(0);
      await system.startApp('status');
      await waitFor(
        'delivered by the replica with delivery on',
        async () => receiver.at('/off').length === 1,
        10_000,
      );
    } finally {
      await system.stopApp('status-off');
    }
  });

  it('SSRF: loopback is refused at delivery without the operator setting, and IP literals at creation', async () => {
    await system.stopApp('status');
    await system.startApp('status', 'status-strict', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' });
    await system.startApp('api', 'api-strict', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' });
    try {
      const strictApi = `http://127.0.0.1:${system.ports['api-strict']}`;
      const literal = await call(
        alice,
        'POST',
        '/v1/webhooks',
        { url: receiver.url('/x'), events: 'message.sent' },
        strictApi,
      );
      expect([literal.status, literal.body.code]).toEqual([400, 'validation']);
      expect(literal.body.message).toContain('loopback');
      // A name is judged when connecting: localhost resolves to loopback, refused there.
      const named = await call(
        alice,
        'POST',
        '/v1/webhooks',
        { url: receiver.url('/ssrf', 'localhost'), events: 'message.sent' },
        strictApi,
      );
      expect(named.status).toBe(200);
      await testEvent(named.body.webhook.id);
      await waitFor(
        'refused',
        async () => (await deliveries(named.body.webhook.id))[0]?.status === 'failed',
        10_000,
      );
      const [refused] = await deliveries(named.body.webhook.id);
      expect(refused.last_error).toContain('loopback');
      expect(refused.last_status_code).toBeNull();
      expect(receiver.at('/ssrf')).toEqual([]);
    } finally {
      await system.stopApp('api-strict');
      await system.stopApp('status-strict');
      await system.startApp('status');
    }
  });
});
