import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** Issue 22: per-SIM quotas hold exactly at the limit, with two dispatcher nodes and phones moving between them (ADR 2201). */
describe('dispatch: per-SIM quotas across two dispatcher nodes', () => {
  let system: TestSystem;
  let account: Account;
  let phones: SimulatedFleet;
  let deviceIds: number[];
  const LIMIT = 6;
  const SENT_EACH = 15;

  beforeAll(async () => {
    // No scheduler: every message here is due at once and enqueued by the api.
    system = await TestSystem.start(['api', 'dispatcher', 'status']);
    await system.startApp('dispatcher', 'dispatcher-b');
    account = system.createAccount();
    phones = new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0, ackDelayMs: 20 },
    });
    deviceIds = (await phones.provision(4)).map((device) => device.deviceId);
  });

  afterAll(async () => {
    phones?.stop();
    await system?.stop();
  });

  async function changeSettings(deviceId: number, settings: Record<string, string>) {
    const response = await fetch(`${system.apiUrl}/v1/devices/${deviceId}/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.token}` },
      body: new URLSearchParams(settings),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function send(deviceId: number, count: number): Promise<number[]> {
    const numbers = Array.from({ length: count }, (_, n) => `+49157${String(n).padStart(7, '0')}`);
    const answer = await getdata(
      system.apiUrl,
      'addsms',
      { token: account.token, sendto: numbers.join(','), body: 'quota', device_id: deviceId },
      'form',
    );
    expect(answer.body.error).toBe(0);
    return answer.body.sms_ids as number[];
  }

  /** Distinct messages each phone got (a resend after a move is the same message, de-duplicated by the phone). */
  function distinctAt(deviceId: number): Set<number> {
    return new Set(
      phones.ledger.received.filter((entry) => entry.deviceId === deviceId).map((entry) => entry.id),
    );
  }

  async function takenOf(deviceId: number): Promise<number> {
    const rows = await system.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE device_id = $1 AND taken_at IS NOT NULL',
      [deviceId],
    );
    return rows[0].n;
  }

  async function heldJobs(deviceId: number, ids: number[]): Promise<number> {
    const key = `${system.redisPrefix}:device-${deviceId}`;
    let held = 0;
    for (const id of ids) {
      const [data, score] = await Promise.all([
        system.redis().hget(`${key}:m${id}`, 'data'),
        system.redis().zscore(`${key}:delayed`, `m${id}`),
      ]);
      if ((JSON.parse(data ?? '{}') as { held?: string }).held === 'quota' && score !== null) held++;
    }
    return held;
  }

  it('sends exactly the hourly quota of each phone while phones move between the nodes, and holds the rest until the hour rolls over', async () => {
    for (const deviceId of deviceIds)
      expect(await changeSettings(deviceId, { simquotas: `all ${LIMIT}/hour 1000/day` })).toMatchObject({
        status: 200,
        body: { settings: { simquotas: `all ${LIMIT}/hour 1000/day` } },
      });
    const urlA = system.dispatcherUrl;
    const urlB = system.url('dispatcher-b');
    await Promise.all(
      phones.phones.map((phone, index) => (index < 2 ? phone.connect() : phone.moveTo(urlB))),
    );
    const sent = new Map<number, number[]>();
    const startedAt = Date.now();
    await Promise.all(deviceIds.map(async (deviceId) => sent.set(deviceId, await send(deviceId, SENT_EACH))));
    // Every phone changes node four times while its queue is being worked: each move is a lease handover,
    // the new session reserving while the old one hands back what it had not acknowledged.
    for (let move = 0; move < 4; move++) {
      await Promise.all(
        phones.phones.map((phone, index) => phone.moveTo((index + move) % 2 === 0 ? urlB : urlA)),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await waitFor(
      'every phone at its quota',
      () => deviceIds.every((id) => distinctAt(id).size >= LIMIT),
      15_000,
    );
    const atQuotaMs = Date.now() - startedAt;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const deviceId of deviceIds) {
      expect(distinctAt(deviceId).size).toBe(LIMIT);
      await waitFor(
        `taken recorded for ${deviceId}`,
        async () => (await takenOf(deviceId)) === LIMIT,
        10_000,
      );
      expect(await heldJobs(deviceId, sent.get(deviceId) as number[])).toBe(SENT_EACH - LIMIT);
    }
    // The held ones wait for the next hour (UTC: no send hours, no zone), not for ever and not before.
    const nextHour = Math.ceil((Date.now() + 1) / 3_600_000) * 3_600_000;
    const scores = await system
      .redis()
      .zrange(`${system.redisPrefix}:device-${deviceIds[0]}:delayed`, 0, -1, 'WITHSCORES');
    const dueAt = Number(scores[1]) / 0x1000; // BullMQ scores carry a counter in their low 12 bits
    expect(Math.abs(dueAt - nextHour)).toBeLessThan(2_000);
    // Visible where the account and the operator look.
    const listed = await getdata(system.apiUrl, 'getalldevices', { token: account.token });
    expect(
      (listed.body.device as Record<string, Record<string, unknown>>)[String(deviceIds[0])],
    ).toMatchObject({
      simquotas: `all ${LIMIT}/hour 1000/day`,
      simquotas_used: { '0': { hour: LIMIT, day: LIMIT } },
    });
    const metrics = await Promise.all(
      [urlA, urlB].map(async (url) => (await fetch(`${url}/metrics`)).text()),
    );
    expect(metrics.join('\n')).toMatch(
      /smsfleet_sim_quota_limit\{device="\d+",slot="0",period="hour"[^}]*\} 6\n/,
    );
    expect(metrics.join('\n')).toMatch(/smsfleet_messages_held_total\{reason="quota"[^}]*\} [1-9]/);
    // The invariant agrees from PostgreSQL alone, and would see one message too many.
    expect(system.cliResult('check').stdout).toMatch(/^L11 ok .*devices=4 .*overQuota=0/m);
    await system.query(`UPDATE devices SET sim_quotas = '{"all":{"hour":5}}' WHERE id = $1`, [deviceIds[0]]);
    expect(system.cliResult('check').stdout).toMatch(
      new RegExp(`^L11 FAIL .*overQuota=1 e\\.g\\. ${deviceIds[0]}$`, 'm'),
    );
    await system.query(`UPDATE devices SET sim_quotas = '{"all":{"hour":6,"day":1000}}' WHERE id = $1`, [
      deviceIds[0],
    ]);
    reportFigure('SIM quota 6/hour, 4 phones x 15 messages, 4 moves between 2 nodes', {
      atQuotaMs,
      sentEach: deviceIds.map((id) => distinctAt(id).size),
    });
  });

  it('rebuilds lost counters from PostgreSQL, and a raised quota lets exactly the difference through at once', async () => {
    const [deviceId] = deviceIds;
    // Redis loses the counters (as after a restart without persistence): PostgreSQL has the taken messages.
    const keys = await system.redis().keys(`${system.redisPrefix}:quota:*`);
    expect(keys.length).toBeGreaterThan(0);
    await system.redis().del(...keys);
    const before = distinctAt(deviceId).size;
    expect(await changeSettings(deviceId, { simquotas: `all ${LIMIT + 2}/hour` })).toMatchObject({
      status: 200,
    });
    await waitFor('two more sent', () => distinctAt(deviceId).size >= before + 2, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(distinctAt(deviceId).size).toBe(LIMIT + 2);
    // The other phones kept their quota: rebuilt, not reset.
    for (const other of deviceIds.slice(1)) expect(distinctAt(other).size).toBe(LIMIT);
  });

  it('counts in the phone’s time zone: after a change to UTC+05:45 a full day holds until local midnight', async () => {
    const deviceId = deviceIds[1];
    // It took LIMIT messages this (UTC) hour and holds the rest. Kathmandu has no DST: its days start at
    // 18:15 UTC. The zone change moves the phone to new counters, rebuilt from what PostgreSQL says it took.
    expect(
      await changeSettings(deviceId, {
        simquotas: `all 100/hour ${LIMIT}/day`,
        sendhours: 'daily 00:00-24:00',
        sendhours_timezone: 'Asia/Kathmandu',
        sendhours_urgent: '0',
      }),
    ).toMatchObject({ status: 200, body: { settings: { sendhours_timezone: 'Asia/Kathmandu' } } });
    const now = Date.now();
    const today = new Date(now);
    let localMidnight = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 18, 15);
    if (localMidnight <= now) localMidnight += 86_400_000;
    const localDay = new Date(localMidnight - 1).toISOString().slice(0, 10).replace(/-/g, '');
    const delayedKey = `${system.redisPrefix}:device-${deviceId}:delayed`;
    // Made due by the change, then held again: until Kathmandu's midnight, not UTC's.
    await waitFor(
      'the held ones due at local midnight',
      async () => {
        const scores = await system.redis().zrange(delayedKey, 0, -1, 'WITHSCORES');
        const dues = scores.filter((_, index) => index % 2 === 1).map((score) => Number(score) / 0x1000);
        return (
          dues.length === SENT_EACH - LIMIT && dues.every((due) => Math.abs(due - localMidnight) < 2_000)
        );
      },
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(distinctAt(deviceId).size).toBe(LIMIT);
    expect(
      await system.redis().get(`${system.redisPrefix}:quota:${deviceId}:0:d${localDay}@Asia/Kathmandu`),
    ).toBe(String(LIMIT));
    const listed = await getdata(system.apiUrl, 'getalldevices', { token: account.token });
    expect((listed.body.device as Record<string, Record<string, unknown>>)[String(deviceId)]).toMatchObject({
      sendhours_timezone: 'Asia/Kathmandu',
      simquotas_used: { '0': { day: LIMIT } },
    });
    expect(system.cliResult('check').stdout).toMatch(/^L11 ok .*overQuota=0/m);
  });

  it('refuses quotas it cannot read, and clears them with none', async () => {
    const deviceId = deviceIds[3];
    for (const bad of ['7 5/hour', '0 5/week', '0 0/hour', '0 5/hour; 0 6/day', '0 5/hour 6/hour', 'all'])
      expect(await changeSettings(deviceId, { simquotas: bad })).toMatchObject({
        status: 400,
        body: { error: 1, code: 'validation' },
      });
    expect(await changeSettings(deviceId, { simquotas: 'none' })).toMatchObject({
      status: 200,
      body: { settings: { delaybetweeneachsms: 0, window: 10 } },
    });
    // No quota any more: what was held goes out at once.
    await waitFor('the held ones sent', () => distinctAt(deviceId).size === SENT_EACH, 10_000);
  });
});
