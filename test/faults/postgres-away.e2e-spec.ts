import { registerPhone } from '../../tools/simulator/fleet';
import { reportFigure } from '../helpers/figures';
import { TcpProxy } from '../helpers/tcp-proxy';
import { Account, TestSystem } from '../harness/test-system';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  method: string;
  key: string;
  body: string;
  status: number;
  error?: number;
  code?: string;
  ids: number[];
}

/**
 * F7 (docs/reliability.md): PostgreSQL unreachable during intake, through a TCP proxy the test cuts. Requests
 * in the window answer 503 "retry", never 500 and never a 2xx without a commit; retries with the same
 * Idempotency-Key afterwards store each request exactly once.
 */
describe('F7: PostgreSQL away during intake', () => {
  let system: TestSystem;
  let proxy: TcpProxy;
  let account: Account;
  let device: number;

  beforeAll(async () => {
    proxy = await TcpProxy.start('127.0.0.1', 5432);
    // Only the api goes through the proxy: the CLI runs synchronously from this process, which serves the proxy.
    system = await TestSystem.start([]);
    const url = new URL(system.databaseUrl);
    url.port = String(proxy.port);
    await system.startApp('api', 'api', { DATABASE_URL: url.toString() });
    account = system.createAccount();
    device = (await registerPhone(system.apiUrl, account.email, account.password, 'p')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
    await proxy?.stop();
  });

  async function post(method: string, key: string, body: string): Promise<Answer> {
    let response = await send(method, key, body);
    // More bulks of one account at once than API_BULK_CONCURRENCY_PER_ACCOUNT: a client waits as told
    // and sends the same request again (nothing of a refused one is stored).
    for (let tries = 0; tries < 20 && response.headers.has('retry-after'); tries++) {
      const answer = (await response.clone().json()) as { code?: string };
      if (answer.code !== 'rate_limited') break;
      await new Promise((resolve) =>
        setTimeout(resolve, Number(response.headers.get('retry-after')) * 1_000),
      );
      response = await send(method, key, body);
    }
    const answer = (await response.json()) as {
      error: number;
      code?: string;
      sms_id?: number;
      sms_ids?: number[];
    };
    return {
      method,
      key,
      body,
      status: response.status,
      error: answer.error,
      code: answer.code,
      ids: answer.error === 0 ? (answer.sms_ids ?? [answer.sms_id as number]) : [],
    };
  }

  function send(method: string, key: string, body: string): Promise<Response> {
    return fetch(`${system.apiUrl}/getdata/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body,
      signal: AbortSignal.timeout(20_000),
    });
  }

  function request(n: number): [string, string, string] {
    const key = `f7-${n}`;
    if (n % 3 === 0) {
      const smsdata = Array.from({ length: 50 }, (_, i) => ({
        sendto: `+4915${n}${i}`.padEnd(13, '0'),
        body: `f7 ${n}`,
        device_id: device,
      }));
      return ['addalotofsms', key, JSON.stringify({ token: account.token, smsdata })];
    }
    return [
      'addsms',
      key,
      JSON.stringify({
        token: account.token,
        device_id: device,
        sendto: '+4915700000001,+4915700000002',
        body: `f7 ${n}`,
      }),
    ];
  }

  it('answers 503 (never 500, never 2xx without commit) while away; same-key retries store each request once', async () => {
    const answers: Answer[] = [];
    let running = true;
    let n = 0;
    const workers = Array.from({ length: 4 }, async () => {
      while (running) {
        const [method, key, body] = request(n++);
        const answer = await post(method, key, body);
        answers.push(answer);
        // Clients back off after a "retry".
        await sleep(answer.error === 0 ? 20 : 200);
      }
    });
    await sleep(1_500);
    await proxy.cut();
    const cutAt = Date.now();
    await sleep(4_000);
    await proxy.heal();
    const healedAt = Date.now();
    // Recovery: the first success after heal.
    while (!answers.slice(-4).some((a) => a.error === 0) && Date.now() - healedAt < 30_000) await sleep(100);
    const recoveryMs = Date.now() - healedAt;
    await sleep(1_500);
    running = false;
    await Promise.all(workers);

    for (const answer of answers) {
      if (answer.error === 0) expect(answer.status).toBe(200);
      else expect({ status: answer.status, code: answer.code }).toEqual({ status: 503, code: 'unavailable' });
    }
    const refused = answers.filter((a) => a.error !== 0);
    expect(refused.length).toBeGreaterThan(0);
    // Accepted before the cut, and again after the heal.
    expect(answers[0].error).toBe(0);
    expect(answers.at(-1)?.error).toBe(0);

    // L1: every id answered with a 2xx exists.
    const answeredIds = answers.flatMap((a) => a.ids);
    const [{ found }] = await system.query<{ found: number }>(
      `SELECT count(*)::int AS found FROM messages WHERE id = ANY($1::bigint[])`,
      [answeredIds],
    );
    expect(found).toBe(answeredIds.length);

    // The client retries every refused request with its key: each is stored exactly once in the end.
    const retried = await Promise.all(refused.map((a) => post(a.method, a.key, a.body)));
    for (const answer of retried) expect(answer.error).toBe(0);
    const allIds = new Set([...answeredIds, ...retried.flatMap((a) => a.ids)]);
    const [{ total }] = await system.query<{ total: number }>(`SELECT count(*)::int AS total FROM messages`);
    // L2: no ghost rows — a request whose commit happened but whose answer was a 503 replays its ids.
    expect(total).toBe(allIds.size);
    const expected = answers.reduce((sum, a) => sum + (Number(a.key.slice(3)) % 3 === 0 ? 50 : 2), 0);
    expect(total).toBe(expected);
    reportFigure('f7-postgres-away', {
      requests: answers.length,
      refused503: refused.length,
      cutMs: healedAt - cutAt,
      recoveryMs,
      messages: total,
    });
  }, 120_000);
});
