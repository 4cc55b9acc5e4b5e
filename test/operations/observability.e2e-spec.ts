import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerPhone, SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { freePort } from '../harness/free-port';
import { Sample, scrape, valueOf } from '../helpers/prometheus-text';
import { Account, AppName, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const APPS: AppName[] = ['api', 'scheduler', 'dispatcher', 'status'];

describe('observability: /metrics on every app, and logs without secrets', () => {
  let system: TestSystem;
  let account: Account;
  let other: Account;
  let fleet: SimulatedFleet;
  const secrets: string[] = [];
  const bodies: string[] = [];

  function body(): string {
    const text = `body-${randomBytes(8).toString('hex')}`;
    bodies.push(text);
    return text;
  }

  async function scrapeAll(): Promise<Record<AppName, Sample[]>> {
    const entries = await Promise.all(APPS.map(async (app) => [app, await scrape(system.url(app))] as const));
    return Object.fromEntries(entries) as Record<AppName, Sample[]>;
  }

  beforeAll(async () => {
    // The most verbose level: the log scan below must hold for every line the apps can write.
    system = await TestSystem.start(undefined, { LOG_LEVEL: 'trace' });
    account = system.createAccount();
    other = system.createAccount();
    secrets.push(account.token, account.password, other.token);
    fleet = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0 },
    });
    const phones = await fleet.provision(2);
    secrets.push(...phones.map((phone) => phone.secret));
    await fleet.connectAll();
    // A dashboard session: its cookie (set in the answer) and CSRF token must reach no log line either.
    const signIn = await fetch(`${system.apiUrl}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: account.email, password: account.password }),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    const { csrf_token: csrf } = (await signIn.json()) as { csrf_token: string };
    secrets.push(cookie.split('=')[1], csrf);
    const devices = await fetch(`${system.apiUrl}/v1/devices`, { headers: { cookie, 'x-csrf-token': csrf } });
    expect(devices.status).toBe(200);
  });

  afterAll(async () => {
    fleet?.stop();
    await system?.stop();
  });

  it.each([['api'], ['dispatcher']] as const)(
    'MONITORING_PORT moves /metrics and /health/ready of the %s off its public port',
    async (app) => {
      const port = await freePort();
      const instance = `${app}-monitored`;
      await system.startApp(app, instance, { MONITORING_PORT: String(port) });
      try {
        const main = system.url(instance);
        const monitoring = `http://127.0.0.1:${port}`;
        const status = async (url: string) => (await fetch(url)).status;
        expect([await status(`${main}/metrics`), await status(`${main}/health/ready`)]).toEqual([404, 404]);
        expect(await status(`${main}/health/live`)).toBe(200);
        expect([
          await status(`${monitoring}/health/ready`),
          await status(`${monitoring}/health/live`),
        ]).toEqual([200, 200]);
        const metrics = await scrape(monitoring);
        expect(metrics.some((sample) => sample.labels.app === app)).toBe(true);
        // The monitoring port serves nothing else.
        expect(await status(`${monitoring}/getdata/gettoken?email=x&pass=y`)).toBe(404);
        if (app === 'api')
          expect(
            (await getdata(main, 'gettoken', { email: account.email, pass: account.password })).body,
          ).toMatchObject({
            error: 0,
          });
        if (app === 'dispatcher') await expectEventStreamOpens(main, monitoring);
      } finally {
        await system.stopApp(instance);
      }
    },
  );

  /**
   * The SMSGate app's routes stay on the dispatcher's own port, and its event stream opens there as an
   * event stream: no request timeout, no API security headers (helmet is the API's only).
   */
  async function expectEventStreamOpens(main: string, monitoring: string): Promise<void> {
    const phoneToken = system.cli('phone:token', '--email', account.email).trim();
    secrets.push(phoneToken);
    const registered = await fetch(`${main}/mobile/v1/device`, {
      method: 'POST',
      headers: { authorization: `Bearer ${phoneToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Test/monitored', pushToken: null, simCards: [] }),
    });
    expect(registered.status).toBe(201);
    const { token } = (await registered.json()) as { token: string };
    secrets.push(token);
    expect(
      (await fetch(`${monitoring}/mobile/v1/settings`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(404);
    const aborted = new AbortController();
    try {
      const stream = await fetch(`${main}/mobile/v1/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: aborted.signal,
      });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toBe('text/event-stream');
      expect(stream.headers.get('content-security-policy')).toBeNull();
      const first = await (stream.body as ReadableStream<Uint8Array>).getReader().read();
      expect(Buffer.from(first.value ?? []).toString('utf8')).toContain(':connected');
    } finally {
      aborted.abort();
    }
  }

  it('serves valid Prometheus text on every app, every series labelled with its app', async () => {
    const all = await scrapeAll();
    for (const app of APPS) {
      expect(all[app].length).toBeGreaterThan(20);
      expect(all[app].every((sample) => sample.labels.app === app)).toBe(true);
      expect(all[app].some((sample) => sample.name === 'process_cpu_seconds_total')).toBe(true);
    }
  });

  it('moves the message counters by exactly the number of messages sent', async () => {
    const [phone1, phone2] = fleet.phones.map((phone) => phone.credentials.deviceId);
    const before = await scrapeAll();

    const requests = [
      getdata(system.apiUrl, 'addsms', {
        token: account.token,
        sendto: [
          '+4915700000001',
          '+4915700000002',
          '+4915700000003',
          '+4915700000004',
          '+4915700000005',
        ].join(','),
        body: body(),
        device_id: phone1,
      }),
      getdata(system.apiUrl, 'addsms', {
        token: account.token,
        sendto: '+4915700000006',
        body: body(),
        device_id: phone2,
        urgent: 1,
      }),
      getdata(
        system.apiUrl,
        'addsms',
        { token: account.token, sendto: '+4915700000007', body: body(), device_id: phone1 },
        'json',
      ),
    ];
    const answers = await Promise.all(requests);
    expect(answers.map((a) => a.body.error)).toEqual([0, 0, 0]);
    const refused = await getdata(system.apiUrl, 'addsms', {
      token: 'not-a-token',
      sendto: '+4915700000008',
      body: body(),
      device_id: phone1,
    });
    expect(refused.body).toMatchObject({ error: 1, code: 'invalid_token' });

    await waitFor(
      '7 messages delivered',
      async () =>
        (await system.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE status = 7'))[0]
          .n === 7,
      20_000,
    );
    const delta = (after: Sample[], app: AppName, name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before[app], name, labels);
    // The status counter moves when its batch commits; wait for that, then read every app once.
    await waitFor(
      'status metrics',
      async () =>
        delta(await scrape(system.url('status')), 'status', 'smsfleet_messages_final_total', {
          status: '7',
        }) >= 7,
      10_000,
    );
    const after = await scrapeAll();

    expect(delta(after.api, 'api', 'smsfleet_messages_accepted_total')).toBe(7);
    expect(delta(after.api, 'api', 'smsfleet_intake_duration_seconds_count')).toBe(3);
    expect(delta(after.dispatcher, 'dispatcher', 'smsfleet_messages_dispatched_total')).toBe(7);
    expect(delta(after.dispatcher, 'dispatcher', 'smsfleet_dispatch_latency_seconds_count')).toBe(7);
    expect(
      delta(after.dispatcher, 'dispatcher', 'smsfleet_messages_resent_total', { reason: 'ack_timeout' }),
    ).toBe(0);
    expect(delta(after.status, 'status', 'smsfleet_messages_final_total', { status: '7' })).toBe(7);
    expect(delta(after.status, 'status', 'smsfleet_status_lag_seconds_count')).toBeGreaterThan(0);
    expect(delta(after.status, 'status', 'smsfleet_status_batch_size_sum')).toBeGreaterThanOrEqual(7 * 3);

    const route = { route: '/getdata/addsms' };
    const http = (method: string, status: string) =>
      delta(after.api, 'api', 'smsfleet_http_request_duration_seconds_count', { ...route, method, status });
    expect(http('GET', '200')).toBe(3); // two accepted, one refused (errors are HTTP 200 on /getdata)
    expect(http('POST', '200')).toBe(1);
    expect(delta(after.api, 'api', 'smsfleet_api_errors_total', { ...route, code: 'invalid_token' })).toBe(1);

    const online = after.dispatcher.filter((s) => s.name === 'smsfleet_phones_online');
    expect(online.reduce((sum, s) => sum + s.value, 0)).toBe(2);
    expect(online.every((s) => typeof s.labels.node === 'string' && s.labels.node.length > 0)).toBe(true);
    for (const app of APPS) expect(valueOf(after[app], 'smsfleet_ready')).toBe(1);
  });

  it('reports the backlog of offline phones at the scheduler: totals, top devices, accounts without a phone', async () => {
    const offline = await registerPhone(system.apiUrl, account.email, account.password, 'offline A');
    const lonely = await registerPhone(system.apiUrl, other.email, other.password, 'offline B');
    secrets.push(offline.secret, lonely.secret);
    const add = (who: Account, deviceId: number, count: number) =>
      getdata(system.apiUrl, 'addsms', {
        token: who.token,
        sendto: Array.from({ length: count }, (_, n) => `+49157100000${String(n).padStart(2, '0')}`).join(
          ',',
        ),
        body: body(),
        device_id: deviceId,
      });
    expect((await add(account, offline.deviceId, 3)).body.error).toBe(0);
    expect((await add(other, lonely.deviceId, 2)).body.error).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const metrics = await scrape(system.url('scheduler'));
    expect(valueOf(metrics, 'smsfleet_queue_jobs', { state: 'waiting' })).toBe(5);
    expect(valueOf(metrics, 'smsfleet_queue_jobs', { state: 'active' })).toBe(0);
    const top = metrics.filter((s) => s.name === 'smsfleet_queue_device_backlog');
    expect(Object.fromEntries(top.map((s) => [s.labels.device_id, s.value]))).toEqual({
      [offline.deviceId]: 3,
      [lonely.deviceId]: 2,
    });
    expect(valueOf(metrics, 'smsfleet_devices_waiting_offline')).toBe(2);
    // Account A has phones online (its offline device's messages can be moved); B has none.
    expect(valueOf(metrics, 'smsfleet_accounts_waiting_without_phone')).toBe(1);
    expect(valueOf(metrics, 'smsfleet_oldest_waiting_message_age_seconds')).toBeGreaterThanOrEqual(1);
  });

  it('logs a query that fails without its parameters: the body and the number appear in no line', async () => {
    const secretBody = body();
    const number = `+49151${randomBytes(3).readUIntBE(0, 3).toString().padStart(8, '0')}`;
    bodies.push(number, number.slice(1));
    // A constraint planted for this test makes PostgreSQL refuse exactly this message's INSERT.
    await system.query(`ALTER TABLE messages ADD CONSTRAINT planted_failure CHECK (body <> '${secretBody}')`);
    try {
      const answer = await getdata(system.apiUrl, 'addsms', {
        token: account.token,
        device_id: fleet.phones[0].deviceId,
        sendto: number,
        body: secretBody,
      });
      expect(answer.body).toMatchObject({ error: 1, code: 'internal' });
    } finally {
      await system.query(`ALTER TABLE messages DROP CONSTRAINT planted_failure`);
    }
    const failure = await waitFor('the failure in the log', () =>
      readLogLines(system.logDir).find(({ line }) => line.includes('planted_failure')),
    );
    expect(JSON.parse(failure.line)).toMatchObject({
      msg: 'unexpected error',
      err: { type: 'QueryFailedError', code: '23514', driverError: { constraint: 'planted_failure' } },
    });
    for (const { file, line } of readLogLines(system.logDir))
      for (const text of [secretBody, number, number.slice(1)])
        if (line.includes(text)) throw new Error(`${file} leaks a failed query's parameter: ${line}`);
  });

  it('writes JSON lines with request, message, device and node ids — and never a body, token, password or secret', async () => {
    const requestId = `test-${randomBytes(6).toString('hex')}`;
    const query = new URLSearchParams({ email: account.email, pass: account.password });
    const answer = await fetch(`${system.apiUrl}/getdata/gettoken?${query}`, {
      headers: { 'x-request-id': requestId },
    });
    expect(answer.headers.get('x-request-id')).toBe(requestId);
    const lines = await waitFor('the request line', () => {
      const all = readLogLines(system.logDir);
      return all.some(({ line }) => line.includes(requestId)) ? all : undefined;
    });
    expect(lines.length).toBeGreaterThan(50);
    for (const { file, line } of lines) {
      for (const secret of [...secrets, ...bodies]) {
        if (line.includes(secret)) throw new Error(`${file} leaks a body or credential: ${line}`);
      }
    }
    const records = lines.map(({ file, line }) => {
      try {
        return JSON.parse(line) as Record<string, unknown> & { req?: { id?: string } };
      } catch {
        throw new Error(`${file}: not a JSON line: ${line}`);
      }
    });
    const accepted = records.filter((r) => r.msg === 'messages accepted');
    expect(accepted.length).toBeGreaterThanOrEqual(5);
    for (const r of accepted) {
      expect(typeof r.req?.id).toBe('string');
      expect(typeof r.deviceId).toBe('number');
      expect(typeof r.firstMessageId).toBe('number');
    }
    const emitted = records.filter((r) => r.msg === 'sms emitted');
    expect(emitted.length).toBe(7);
    for (const r of emitted) {
      expect(r).toMatchObject({ app: 'dispatcher', level: 20 });
      expect(typeof r.messageId).toBe('number');
      expect(typeof r.deviceId).toBe('number');
      expect(typeof r.nodeId).toBe('string');
    }
    const requestLines = records.filter((r) => r.app === 'api' && r.msg === 'request completed');
    expect(requestLines.length).toBeGreaterThan(5);
    expect(requestLines.every((r) => typeof r.req?.id === 'string')).toBe(true);
    expect(requestLines.filter((r) => r.req?.id === requestId)).toHaveLength(1);
    // Probes and scrapes are not logged per request.
    expect(records.some((r) => /^\/(health|metrics)/.test(String((r.req as { path?: string })?.path)))).toBe(
      false,
    );
  });
});

function readLogLines(dir: string): Array<{ file: string; line: string }> {
  return readdirSync(dir).flatMap((file) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => ({ file, line })),
  );
}
