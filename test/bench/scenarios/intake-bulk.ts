import { Queue } from 'bullmq';
import { DeviceJobName } from '@smsfleet/contracts';
import { BenchSystem } from '../../harness/bench-system';
import { runLoad } from '../load';
import { Progress } from '../progress';
import { BenchContext, Scenario, ScenarioResult } from '../result';
import { round } from '../stats';

const BATCH = 1_000;
const CONNECTIONS = 4;

/** Bulk intake: `addalotofsms` with 1,000 messages a request against a multi-row INSERT + addBulk without HTTP. */
export const intakeBulk: Scenario = {
  name: 'intake-bulk',
  description: 'addalotofsms, 1,000 messages a request',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('intake-bulk');
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api']);
      // One account per connection: an account's bulks run one at a time (API_BULK_CONCURRENCY_PER_ACCOUNT),
      // as SmsGateway24 clients send them, and a refusal would count here as a fast 2xx answer.
      const accounts = Array.from({ length: CONNECTIONS }, () => system.createAccount());
      const devices: Array<{ deviceId: number }> = [];
      for (const account of accounts) devices.push((await system.registerPhones(account, 1))[0]);
      const [account, device] = [accounts[0], devices[0]];
      const [{ id: userId }] = (
        await system.db().query<{ id: number }>('SELECT id FROM users WHERE email = $1', [account.email])
      ).rows;

      progress.update('baseline: multi-row INSERT of 1,000 + addBulk, no HTTP', true);
      const queue = new Queue(`device-${device.deviceId}`, {
        connection: system.redis(),
        prefix: system.redisPrefix,
        skipVersionCheck: true,
      });
      const numbers = Array.from({ length: BATCH }, (_, n) => `+49157${String(n).padStart(7, '0')}`);
      let baselineMessages = 0;
      const baseStart = Date.now();
      while (Date.now() - baseStart < context.durationSec * 1_000) {
        const rows = await system.db().query<{ id: string }>(
          `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until)
           SELECT $1, $2, n, n, 'benchmark', 0, now(), now() + interval '1 day' FROM unnest($3::text[]) AS n RETURNING id`,
          [userId, device.deviceId, numbers],
        );
        await queue.addBulk(
          rows.rows.map((row) => ({
            name: DeviceJobName.sms,
            data: { messageId: Number(row.id) },
            opts: { jobId: `m${row.id}`, priority: 2, removeOnComplete: true },
          })),
        );
        baselineMessages += rows.rows.length;
        progress.update(`baseline: ${baselineMessages} messages`);
      }
      const baseline = baselineMessages / ((Date.now() - baseStart) / 1000);
      await queue.close();

      progress.update('system: POST /getdata/addalotofsms (raw JSON body)', true);
      const bodies = accounts.map((owner, i) =>
        JSON.stringify({
          token: owner.token,
          smsdata: numbers.map((sendto) => ({
            sendto,
            body: 'benchmark',
            device_id: devices[i].deviceId,
            sim: 0,
          })),
        }),
      );
      const url = `${system.apiUrl}/getdata/addalotofsms`;
      for (const body of bodies) {
        const probe = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const answer = (await probe.json()) as { error: number; message: string };
        if (answer.error !== 0) throw new Error(`addalotofsms is not available: ${answer.message}`);
      }
      let requests = 0;
      const loads = await Promise.all(
        bodies.map((body) =>
          runLoad({
            url,
            connections: 1,
            durationSec: context.durationSec,
            body,
            onTick: () => progress.update(`system: ${(requests += 500)} requests`),
          }),
        ),
      );
      const load = {
        requestsPerSecond: loads.reduce((sum, one) => sum + one.requestsPerSecond, 0),
        p50: Math.max(...loads.map((one) => one.p50)),
        p99: Math.max(...loads.map((one) => one.p99)),
        errors: loads.reduce((sum, one) => sum + one.errors, 0),
      };
      const rate = load.requestsPerSecond * BATCH;
      const ratio = rate / baseline;
      progress.done(`system ${Math.round(rate)} msg/s vs baseline ${Math.round(baseline)} msg/s`);
      return {
        scenario: this.name,
        description: this.description,
        baseline: { label: 'multi-row INSERT + addBulk, no HTTP', value: round(baseline), unit: 'msg/s' },
        system: { label: 'addalotofsms', value: round(rate), unit: 'msg/s' },
        ratio: round(ratio, 3),
        target: '≥ 60 % of baseline',
        met: context.scale >= 1 ? ratio >= 0.6 : null,
        details: {
          'request p50 ms (slowest connection)': load.p50,
          'request p99 ms (slowest connection)': load.p99,
          'connections (one account each)': CONNECTIONS,
          errors: load.errors,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
