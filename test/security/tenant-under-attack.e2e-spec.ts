import { SimulatedFleet } from '../../tools/simulator/fleet';
import { checkSettled } from '../helpers/load-run';
import { multipartBody, rawRequest } from '../helpers/raw-http';
import { percentile, reportFigure } from '../helpers/figures';
import { Account, AppName, TestSystem } from '../harness/test-system';
import { scrape, valueOf } from '../helpers/prometheus-text';
import { runVictimClient } from '../helpers/victim-client';
import { waitFor } from '../harness/wait-for';

const APPS: AppName[] = ['api', 'scheduler', 'dispatcher', 'status'];
/** V's quiet baseline, each attack alone, then all of them at once. */
const WARM_UP_MS = 2_000;
const QUIET_MS = 5_000;
const ALONE_MS = 5_000;
const ATTACK_MS = 15_000;
/**
 * V's p95 during any attack may be at most this many times its quiet p95, or MIN_SLOWED_P95_MS, whichever
 * is more. Measured on a 2-core host shared with other test runs: at load 5, quiet p95 11 ms, each
 * attack alone 11-67 ms, all at once 84 ms (max 116); at load 8-13, each attack alone up to 555 ms while
 * the api's event loop stayed under 200 ms (p99: the rest was the host). Before the bulk route counted
 * its body as it arrived, the bulk attack alone held the loop 276-307 ms (p99) and all together gave V
 * 738 ms (max 1.8 s) on a quiet host.
 */
const SLOWDOWN_FACTOR = 10;
const MIN_SLOWED_P95_MS = 600;
const REQUEST_TIMEOUT_MS = 3_000;
/** The compatible clients give up after 2 s (ADR 0301): the victim's requests must answer within that. */
const CLIENT_TIMEOUT_MS = 2_000;
const FAILED_LOGINS_PER_EMAIL = 5;

/**
 * One tenant cannot take the service down or slow another (issue 16, HTTP side): while account M sends
 * every kind of hostile request the security review found — a 40 MB bulk request that names ten million
 * recipients, multipart floods, declared and chunked oversize bodies, slow bodies, concurrent password
 * guesses, listing floods — account V keeps sending: each answer within the clients' 2 s, its p95 within a
 * bound of its quiet p95 measured in the same run (each attack alone, a figure per attack saying which
 * one costs V most, then all at once), and each of its messages reaches 7 on its simulated phones. No
 * process dies, and `cli check --settled` passes on both ledgers afterwards.
 */
describe('one tenant attacks over HTTP, the other keeps working', () => {
  let system: TestSystem;
  let victim: Account;
  let attacker: Account;
  let victimFleet: SimulatedFleet;
  let attackerFleet: SimulatedFleet;
  const ledger: Array<{ status: number; ids: number[] }> = [];

  beforeAll(async () => {
    system = await TestSystem.start(APPS, {
      LOG_LEVEL: 'warn',
      API_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      RATE_LIMIT_FAILED_LOGINS_PER_EMAIL: String(FAILED_LOGINS_PER_EMAIL),
    });
    victim = system.createAccount();
    attacker = system.createAccount();
    const behaviour = { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0 };
    const fleet = (account: Account) =>
      new SimulatedFleet({
        apiUrl: system.apiUrl,
        dispatcherUrl: system.dispatcherUrl,
        email: account.email,
        password: account.password,
        behaviour,
      });
    victimFleet = fleet(victim);
    attackerFleet = fleet(attacker);
    await victimFleet.provision(3);
    await attackerFleet.provision(1);
    await Promise.all([victimFleet.connectAll(), attackerFleet.connectAll()]);
  }, 120_000);

  afterAll(async () => {
    victimFleet?.stop();
    attackerFleet?.stop();
    await system?.stop();
  });

  /**
   * V's client: one addsms every 100 ms for `ms`, in a thread of its own, so that the attacker's work in
   * this thread (building and writing its payloads) does not count as V's waiting time.
   */
  async function victimTraffic(ms: number, from: number): Promise<number[]> {
    const results = await runVictimClient({
      apiUrl: system.apiUrl,
      token: victim.token,
      devices: victimFleet.phones.map((phone) => phone.deviceId),
      ms,
      from,
    });
    for (const answer of results) {
      ledger.push({ status: answer.status, ids: answer.id ? [answer.id] : [] });
      expect([answer.i, answer.status, answer.error]).toEqual([answer.i, 200, 0]);
    }
    return results.map((answer) => answer.ms);
  }

  /**
   * Four million recipients in 16 MB, under the bulk route's limit (security review P2 sent ten million in
   * 40 MB, now refused by its length): refused at the item that passes 10,000. Built once.
   */
  let amplified: Buffer | undefined;
  async function bulkAmplification(): Promise<unknown> {
    const item = {
      device_id: attackerFleet.phones[0].deviceId,
      body: 'x',
      sendto: Array(1000).fill('100').join(','),
    };
    const body = (amplified ??= Buffer.from(
      JSON.stringify({ token: attacker.token, smsdata: Array(3_900).fill(item) }),
    ));
    const response = await fetch(`${system.apiUrl}/getdata/addalotofsms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return response.json();
  }

  /** 200 fields of 1 MB without a declared length (P3), and 200 MB declared without a token. */
  async function multipartFlood(): Promise<unknown[]> {
    const { contentType, body: part } = multipartBody([['f', 'a'.repeat(1_000_000)]]);
    // One part after another (chunked, no length declared): 200 MB if the server never said stop.
    const field = part.subarray(0, part.length - '--smsfleetboundary--\r\n'.length);
    const framed = Buffer.concat([
      Buffer.from(`${field.length.toString(16)}\r\n`),
      field,
      Buffer.from('\r\n'),
    ]);
    const chunked = Array.from({ length: 3 }, () =>
      rawRequest(
        system.apiUrl,
        `POST /getdata/gettoken HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked`,
        [...Array<Buffer>(200).fill(framed), '0\r\n\r\n'],
        { waitMs: 15_000 },
      ).then((answer) => JSON.parse(answer.body) as unknown),
    );
    const declared = Array.from({ length: 10 }, () =>
      rawRequest(
        system.apiUrl,
        `POST /getdata/addalotofsms HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartBody([]).contentType}\r\nContent-Length: 200000000`,
      ).then((answer) => JSON.parse(answer.body) as unknown),
    );
    return Promise.all([...chunked, ...declared]);
  }

  /** Bodies trickled a few bytes at a time (P12): each cut off after API_REQUEST_TIMEOUT_MS. */
  function slowBodies(count: number) {
    return Promise.all(
      Array.from({ length: count }, () =>
        rawRequest(
          system.apiUrl,
          `POST /getdata/addalotofsms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000`,
          Array.from({ length: 20 }, () => '{"'),
          { gapMs: 400, waitMs: 15_000 },
        ),
      ),
    );
  }

  /** Concurrent guesses at one email (P4): only the limit's worth of them is checked. */
  async function loginRace(): Promise<string[]> {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(
          `${system.apiUrl}/getdata/gettoken?email=${encodeURIComponent(attacker.email)}&pass=guess${i}`,
        ).then((r) => r.json() as Promise<{ code?: string }>),
      ),
    );
    return answers.map((a) => a.code ?? 'ok');
  }

  /** The deepest listings allowed, all at once (P11): the account's share of the pool only. */
  async function listingFlood(): Promise<string[]> {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${system.apiUrl}/getdata/getallsms?token=${attacker.token}&limit=10000&offset=990000`).then(
          (r) => r.json() as Promise<{ error: number; code?: string }>,
        ),
      ),
    );
    return answers.map((a) => (a.error === 0 ? 'ok' : (a.code as string)));
  }

  /** Event-loop delay of the api since the last scrape (prom-client resets its histogram on each one). */
  async function apiLoopDelay(): Promise<{ loopP99: number; loopMax: number }> {
    const samples = await scrape(system.url('api'));
    return {
      loopP99: Math.round(valueOf(samples, 'nodejs_eventloop_lag_p99_seconds') * 1000),
      loopMax: Math.round(valueOf(samples, 'nodejs_eventloop_lag_max_seconds') * 1000),
    };
  }

  const findings: Record<string, unknown[]> = {
    bulk: [],
    multipart: [],
    slow: [],
    logins: [],
    listings: [],
  };
  /** One round of each attack; each adds what M got to `findings`. */
  const ATTACKS: Record<string, () => Promise<void>> = {
    bulk: async () => void findings.bulk.push(await bulkAmplification()),
    multipart: async () => void findings.multipart.push(...(await multipartFlood())),
    slow: async () => void findings.slow.push(...(await slowBodies(10)).map((a) => a.status)),
    logins: async () => void findings.logins.push(await loginRace()),
    listings: async () => void findings.listings.push(...(await listingFlood())),
  };

  /**
   * V's times while `attacks` run round after round for `ms` (none: the quiet baseline), with the api's
   * event-loop delay meanwhile: whether V waited on the api's loop or on the host.
   */
  let nextVictimIndex = 0;
  async function phase(name: string, attacks: string[], ms: number) {
    await apiLoopDelay();
    const end = Date.now() + ms;
    // Each attack round after round on its own: a slow one (slow bodies) does not pace the others.
    const attack = Promise.all(
      attacks.map(async (attackName) => {
        while (Date.now() < end) await ATTACKS[attackName]();
      }),
    );
    const times = await victimTraffic(ms, nextVictimIndex);
    nextVictimIndex += 1_000;
    await attack;
    const figures = {
      phase: name,
      p50: Math.round(percentile(times, 50)),
      p95: Math.round(percentile(times, 95)),
      max: Math.round(Math.max(...times)),
      requests: times.length,
      ...(await apiLoopDelay()),
    };
    reportFigure('tenant-under-attack phase', figures);
    return { times, figures };
  }

  it('V is answered in its usual time and delivered while M attacks; no process dies; cli check --settled passes', async () => {
    // Warm-up first (connections, compiled code), so that the quiet baseline is the usual time.
    await victimTraffic(WARM_UP_MS, 900_000);
    const quiet = await phase('quiet', [], QUIET_MS);
    // Each attack alone first, so that the figures say which one costs V most; then all of them at once.
    const phases = [];
    for (const name of Object.keys(ATTACKS)) phases.push(await phase(name, [name], ALONE_MS));
    phases.push(await phase('all', Object.keys(ATTACKS), ATTACK_MS));
    const baseline = quiet.times;
    const during = phases[phases.length - 1].times;

    // What M got: refusals in the API's format, never a 5xx or a hang.
    for (const answer of findings.bulk)
      expect(answer).toMatchObject({
        error: 1,
        code: 'validation',
        message: expect.stringMatching(/passes the cap/),
      });
    for (const answer of findings.multipart)
      expect(answer).toMatchObject({ error: 1, code: 'payload_too_large' });
    // Cut off after the request timeout, or refused at once once they fill the large-body budget.
    for (const status of findings.slow) expect([408, 503]).toContain(status);
    for (const codes of findings.logins as string[][])
      expect(codes.filter((code) => code === 'invalid_credentials').length).toBeLessThanOrEqual(
        FAILED_LOGINS_PER_EMAIL,
      );
    for (const code of findings.listings) expect(['ok', 'rate_limited']).toContain(code);

    // What V got: every request answered within the clients' timeout, every message delivered.
    const figures = {
      baselineP50: Math.round(percentile(baseline, 50)),
      baselineP95: Math.round(percentile(baseline, 95)),
      duringP50: Math.round(percentile(during, 50)),
      duringP95: Math.round(percentile(during, 95)),
      duringMax: Math.round(Math.max(...during)),
      victimRequests: baseline.length + during.length,
      amplifiedBulkRequests: findings.bulk.length,
      listingsRefused: findings.listings.filter((code) => code === 'rate_limited').length,
      slowCutOff: findings.slow.filter((status) => status === 408).length,
      slowRefusedByBudget: findings.slow.filter((status) => status === 503).length,
      p95ByPhase: Object.fromEntries(phases.map(({ figures: f }) => [f.phase, f.p95])),
    };
    reportFigure('tenant-under-attack', figures);
    expect(percentile(during, 95)).toBeLessThan(CLIENT_TIMEOUT_MS);
    const bound = Math.max(SLOWDOWN_FACTOR * quiet.figures.p95, MIN_SLOWED_P95_MS);
    for (const { figures: f } of phases)
      expect({ phase: f.phase, p95: f.p95, bound, within: f.p95 <= bound }).toMatchObject({ within: true });
    const victimIds = ledger.flatMap((entry) => entry.ids);
    await waitFor(
      'every message of V delivered',
      async () => {
        const [{ n }] = await system.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::bigint[]) AND status = 7`,
          [victimIds],
        );
        return n === victimIds.length;
      },
      60_000,
      500,
    );
    for (const app of APPS) {
      expect([app, system.processes.get(app)?.exitCode]).toEqual([app, null]);
      expect([app, (await fetch(`${system.url(app)}/health/live`)).ok]).toEqual([app, true]);
    }
    const { status, failing } = checkSettled(system, ledger, [victimFleet.ledger, attackerFleet.ledger]);
    expect(failing).toEqual([]);
    expect(status).toBe(0);
  }, 240_000);
});
