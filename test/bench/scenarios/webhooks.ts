import { Agent, createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { io, Socket } from 'socket.io-client';
import { DEVICE_NAMESPACE, DeviceEvent, MessageStatus } from '@smsfleet/contracts';
import { BenchSystem } from '../../harness/bench-system';
import { waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { percentile, round } from '../stats';

const REPORTS_PER_EVENT = 100;
/** The worker's default WEBHOOK_CONCURRENCY: the baseline keeps as many POSTs in flight. */
const DEFAULT_CONCURRENCY = 16;
/** The latency phase sends a batch of reports this often. */
const TICK_MS = 50;

/** A local receiver: answers 204 at once and notes when each message's event came (one or a batch per POST). */
class Receiver {
  readonly arrivals = new Map<number, number>();
  count = 0;
  posts = 0;
  lastAt = 0;
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const now = Date.now();
        type Event = { data: { id: number } };
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Event | { events: Event[] };
        for (const event of 'events' in body ? body.events : [body]) {
          if (!this.arrivals.has(event.data.id)) this.arrivals.set(event.data.id, now);
          this.count++;
        }
        this.posts++;
        this.lastAt = now;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function connect(system: BenchSystem, deviceId: number, secret: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = io(`${system.dispatcherUrl}${DEVICE_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { deviceId, secret, protocol: 1 },
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Reports status 6 for these messages over the socket, until acked (after its commit in the inbox). */
async function reportSent(socket: Socket, ids: number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += REPORTS_PER_EVENT) {
    const batch = ids
      .slice(i, i + REPORTS_PER_EVENT)
      .map((id) => ({ id, status: MessageStatus.SentByPhone, at: new Date().toISOString() }));
    for (;;) {
      const answer = (await socket.timeout(30_000).emitWithAck(DeviceEvent.status, batch)) as { ok: boolean };
      if (answer.ok) break;
    }
  }
}

/** POSTs each body to the receiver, `concurrency` at a time over kept-alive connections. */
async function postLoop(url: string, bodies: string[], concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 204 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) await post(bodies[next++]);
      }),
    );
  } finally {
    agent.destroy();
  }
}

/**
 * Status events through the real path (phones report, the status inbox, the status app's writer records
 * each change and its event in one transaction) delivered to a local receiver by the status app's worker;
 * then the same bodies POSTed by a plain keep-alive loop; then the latency of a change at half the rate.
 */
export const webhooks: Scenario = {
  name: 'webhooks',
  description: 'webhook events of 100,000 status changes delivered to a local receiver',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('webhooks');
    const total = scaled(100_000, context, 200);
    const latencyEvents = Math.max(50, Math.round(total / 5));
    const phones = Math.min(20, Math.max(1, Math.round(total / 2_000)));
    const concurrency = Number(process.env.WEBHOOK_CONCURRENCY ?? DEFAULT_CONCURRENCY);
    // A receiver that accepts batches (docs/webhooks.md): the subscription's batch_size; 1 by default.
    const batchSize = Number(process.env.WEBHOOK_BENCH_BATCH_SIZE ?? 1);
    const receiver = new Receiver();
    await receiver.start();
    const system = await BenchSystem.create({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    const sockets: Socket[] = [];
    try {
      await system.startApps(['api', 'dispatcher', 'status']);
      const account = system.createAccount();
      const subscribed = await fetch(`${system.apiUrl}/v1/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url, events: ['message.sent'], batch_size: batchSize }),
      });
      if (subscribed.status !== 200) throw new Error(`subscription refused: HTTP ${subscribed.status}`);
      const credentials = await system.registerPhones(account, phones);
      const [{ id: userId }] = (await system.db().query<{ id: number }>('SELECT id FROM users')).rows;
      progress.update(`seeding ${total + latencyEvents} messages at status 2`, true);
      const perPhone = Math.ceil((total + latencyEvents) / phones);
      const byPhone: number[][] = [];
      for (const c of credentials) {
        const rows = await system.db().query<{ id: string }>(
          `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until, status, enqueued_at, taken_at)
           SELECT $1, $2, '+4915700000000', '+4915700000000', 'benchmark', 0, now(), now() + interval '1 day', 2, now(), now()
             FROM generate_series(1, $3) RETURNING id`,
          [userId, c.deviceId, perPhone],
        );
        byPhone.push(rows.rows.map((row) => Number(row.id)));
      }
      for (const c of credentials) sockets.push(await connect(system, c.deviceId, c.secret));
      const perPhoneThroughput = Math.ceil(total / phones);
      const throughputIds = byPhone.map((ids) => ids.slice(0, perPhoneThroughput));
      const events = throughputIds.reduce((n, ids) => n + ids.length, 0);

      progress.update(`system: ${phones} phones report ${events} sends, the status app delivers`, true);
      const systemLoad = loadavg()[0];
      const start = Date.now();
      await Promise.all(sockets.map((socket, i) => reportSent(socket, throughputIds[i])));
      const acked = Date.now();
      await waitUntil(
        'every event at the receiver',
        () => {
          progress.update(`events at the receiver: ${receiver.count}/${events}`);
          return receiver.arrivals.size >= events;
        },
        600_000,
        200,
      );
      const lastArrival = receiver.lastAt;
      const rate = events / ((lastArrival - start) / 1000);
      const systemPosts = receiver.posts;
      const repeats = receiver.count - receiver.arrivals.size;
      // Where the system's time went: recording the changes and their events (the status writer), or
      // delivering them (the worker) — the last event's transaction began at its created_at.
      const [{ last_recorded_ms: lastRecordedMs }] = (
        await system
          .db()
          .query<{ last_recorded_ms: number }>(
            `SELECT (EXTRACT(EPOCH FROM max(created_at)) * 1000)::float8 AS last_recorded_ms FROM webhook_events`,
          )
      ).rows;

      progress.update(
        `baseline: the same ${events} bodies POSTed, ${concurrency} at a time, keep-alive`,
        true,
      );
      const bodies = (
        await system
          .db()
          .query<{ body: string }>(`SELECT payload::text AS body FROM webhook_events ORDER BY id LIMIT $1`, [
            events,
          ])
      ).rows.map((row) => row.body);
      const baselineLoad = loadavg()[0];
      const baseStart = Date.now();
      await postLoop(receiver.url, bodies, concurrency);
      const baseline = bodies.length / ((Date.now() - baseStart) / 1000);

      const paced = rate / 2;
      const perTick = Math.max(1, Math.round((paced * TICK_MS) / 1000));
      progress.update(
        `latency: ${latencyEvents} changes at ${Math.round(paced)}/s (half the system's rate)`,
        true,
      );
      // Each batch from the phone whose messages they are (a report for another device's message changes
      // nothing), the phones taking turns.
      const latencyByPhone = byPhone.map((ids) => ids.slice(perPhoneThroughput));
      const latencyIds = latencyByPhone.flat();
      const reportedAt = new Map<number, number>();
      const sending: Promise<void>[] = [];
      const latencyStart = Date.now();
      for (let tick = 0; latencyByPhone.some((ids) => ids.length > 0); tick++) {
        const phone = tick % phones;
        const batch = latencyByPhone[phone].splice(0, perTick);
        if (batch.length === 0) continue;
        const wait = latencyStart + tick * TICK_MS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const at = Date.now();
        for (const id of batch) reportedAt.set(id, at);
        sending.push(reportSent(sockets[phone], batch));
      }
      await Promise.all(sending);
      await waitUntil(
        'every latency event at the receiver',
        () => latencyIds.every((id) => receiver.arrivals.has(id)),
        120_000,
        100,
      );
      const latencies = latencyIds.map((id) => receiver.arrivals.get(id)! - reportedAt.get(id)!);
      const p99 = percentile(latencies, 99);
      const ratio = rate / baseline;
      progress.done(
        `system ${Math.round(rate)} events/s vs baseline ${Math.round(baseline)} events/s; p99 ${p99} ms at ${Math.round(paced)}/s`,
      );
      return {
        scenario: this.name,
        description: this.description,
        baseline: {
          label: `POST loop, ${concurrency} in flight, keep-alive`,
          value: round(baseline),
          unit: 'events/s',
        },
        system: {
          label: 'phone report → status inbox → change + event (one transaction) → worker POST',
          value: round(rate),
          unit: 'events/s',
        },
        ratio: round(ratio, 3),
        target: '≥ 50 % of baseline; change → receiver ≤ 1 s p99 at half the rate',
        met: context.scale >= 1 ? ratio >= 0.5 && p99 <= 1_000 : null,
        details: {
          events,
          phones,
          'subscription batch_size (WEBHOOK_BENCH_BATCH_SIZE)': batchSize,
          'POSTs the worker made for them': systemPosts,
          'seconds until every report was acked by the server': round((acked - start) / 1000, 2),
          'seconds until the last event was recorded (status writer)': round(
            (lastRecordedMs - start) / 1000,
            2,
          ),
          'seconds until the last event reached the receiver': round((lastArrival - start) / 1000, 2),
          'events received more than once': repeats,
          // The two phases run one after the other on cores other work shares: a ratio is only as
          // comparable as the load each phase met.
          'load average (1 min) as the system phase began': round(systemLoad, 2),
          'load average (1 min) as the baseline began': round(baselineLoad, 2),
          'latency phase: events': latencyIds.length,
          'latency phase: changes/s': round(paced),
          'change → receiver p50 (ms)': percentile(latencies, 50),
          'change → receiver p99 (ms)': p99,
          'change → receiver max (ms)': Math.max(...latencies),
        },
      };
    } finally {
      for (const socket of sockets) socket.disconnect();
      await system.stop();
      await receiver.stop();
    }
  },
};
