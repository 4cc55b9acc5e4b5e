import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BenchSystem } from '../bench-system';
import { connectFleet, fillQueues, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { percentile, round } from '../stats';

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

      // The phones live in this process: its own lateness is part of every figure below, so it is reported.
      const benchLoopDelay = monitorEventLoopDelay({ resolution: 10 });
      benchLoopDelay.enable();
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
      benchLoopDelay.disable();
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
      const arrivals = fleet.ledger.received.filter((entry) => acceptStarted.has(entry.id) && !entry.repeat);
      // Accepted = the moment the API began storing the message (the row's created_at, stamped by the API
      // before its INSERT): the same clock as the phones', and free of this process's lateness in reading
      // the answer. The client's view, from sending the request, is reported next to it.
      const { rows: stamps } = await system
        .db()
        .query<{ id: string; accepted_ms: number }>(
          `SELECT id, (extract(epoch from created_at) * 1000)::float8 AS accepted_ms FROM messages WHERE id = ANY($1::bigint[])`,
          [[...acceptStarted.keys()]],
        );
      const acceptedAt = new Map(stamps.map((row) => [Number(row.id), row.accepted_ms]));
      const latencies = arrivals.map((entry) => Math.round(entry.at - (acceptedAt.get(entry.id) as number)));
      const requestToPhoneMs = arrivals.map((entry) => entry.at - (acceptStarted.get(entry.id) as number));
      const answerMs = [...acceptStarted].map(([id, at]) => (answered.get(id) as number) - at);
      const normalsSeen = fleet.ledger.received.filter((entry) => !acceptStarted.has(entry.id)).length;
      fleet.stop();
      const p99 = percentile(latencies, 99);
      progress.done(`urgent accepted → phone p99 ${p99} ms over ${latencies.length} urgent messages`);
      return {
        scenario: this.name,
        description: this.description,
        system: { label: 'urgent accepted (stored by the API) → phone, p99', value: p99, unit: 'ms' },
        target: 'p99 < 50 ms',
        met: context.scale >= 1 ? p99 < 50 : null,
        details: {
          'urgent messages': latencies.length,
          'p50 ms': percentile(latencies, 50),
          'p90 ms': percentile(latencies, 90),
          'max ms': Math.max(...latencies),
          "request sent → phone p50 / p99 ms (the client's view, API answer included)": `${percentile(requestToPhoneMs, 50)} / ${percentile(requestToPhoneMs, 99)}`,
          'api answer p50 / p99 ms': `${percentile(answerMs, 50)} / ${percentile(answerMs, 99)}`,
          'bench process event-loop delay p50 / p99 ms': `${round(benchLoopDelay.percentile(50) / 1e6, 1)} / ${round(benchLoopDelay.percentile(99) / 1e6, 1)}`,
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
