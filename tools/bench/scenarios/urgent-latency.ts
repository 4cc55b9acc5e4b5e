import { BenchSystem } from '../bench-system';
import { connectFleet, fillQueues, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { percentile } from '../stats';

const URGENT_EVERY_MS = 50;

/** Urgent messages trickle in while a large normal backlog drains: accept → phone latency of the urgent ones. */
export const urgentLatency: Scenario = {
  name: 'urgent-latency',
  description: '100,000 normal messages queued, urgent ones trickle in',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('urgent-latency');
    const backlog = scaled(100_000, context, 100);
    const phones = Math.min(100, Math.max(2, Math.round(backlog / 1_000)));
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api', 'dispatcher', 'status', 'scheduler']);
      const account = system.createAccount();
      const credentials = await system.registerPhones(account, phones);
      const deviceIds = credentials.map((c) => c.deviceId);
      await fillQueues(system, account, deviceIds, Math.ceil(backlog / phones), {}, (n) =>
        progress.update(`normal backlog queued: ${n}/${backlog}`),
      );
      const fleet = await connectFleet(system, account, credentials, {
        sendDelayMs: 50,
        deliveryDelayMs: 50,
        failureShare: 0,
      });
      progress.update(
        `${phones} phones connected; backlog draining; urgent messages every ${URGENT_EVERY_MS} ms`,
        true,
      );

      const acceptStarted = new Map<number, number>();
      const answered = new Map<number, number>();
      const deadline = Date.now() + context.durationSec * 1_000;
      let next = 0;
      while (Date.now() < deadline) {
        const deviceId = deviceIds[next++ % deviceIds.length];
        const started = Date.now();
        const response = await fetch(`${system.apiUrl}/getdata/addsms`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            token: account.token,
            sendto: '+4915799999999',
            body: 'OTP 123456',
            device_id: deviceId,
            urgent: 1,
          }),
        });
        const answer = (await response.json()) as { error: number; sms_id: number };
        if (answer.error === 0) {
          acceptStarted.set(answer.sms_id, started);
          answered.set(answer.sms_id, Date.now());
        }
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, URGENT_EVERY_MS - (Date.now() - started))),
        );
      }
      await waitUntil(
        'every urgent message at a phone',
        () => {
          const arrived = fleet.ledger.received.filter(
            (entry) => acceptStarted.has(entry.id) && !entry.repeat,
          ).length;
          return arrived >= acceptStarted.size;
        },
        120_000,
      );
      const latencies = fleet.ledger.received
        .filter((entry) => acceptStarted.has(entry.id) && !entry.repeat)
        .map((entry) => entry.at - (acceptStarted.get(entry.id) as number));
      // Where the time goes: the api's answer (stored, queued, signalled), then dispatcher → phone.
      const answerMs = [...acceptStarted].map(([id, at]) => (answered.get(id) as number) - at);
      const afterAnswerMs = fleet.ledger.received
        .filter((entry) => answered.has(entry.id) && !entry.repeat)
        .map((entry) => entry.at - (answered.get(entry.id) as number));
      const normalsSeen = fleet.ledger.received.filter((entry) => !acceptStarted.has(entry.id)).length;
      fleet.stop();
      const p99 = percentile(latencies, 99);
      progress.done(`urgent accept → phone p99 ${p99} ms over ${latencies.length} urgent messages`);
      return {
        scenario: this.name,
        description: this.description,
        system: { label: 'urgent accept → phone, p99', value: p99, unit: 'ms' },
        target: 'p99 < 50 ms',
        met: context.scale >= 1 ? p99 < 50 : null,
        details: {
          'urgent messages': latencies.length,
          'p50 ms': percentile(latencies, 50),
          'p90 ms': percentile(latencies, 90),
          'max ms': Math.max(...latencies),
          'api answer p50 / p99 ms': `${percentile(answerMs, 50)} / ${percentile(answerMs, 99)}`,
          'answer → phone p50 / p99 ms': `${percentile(afterAnswerMs, 50)} / ${percentile(afterAnswerMs, 99)}`,
          'normal backlog': backlog,
          'normal messages delivered meanwhile': normalsSeen,
          phones,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
