import { Queue } from 'bullmq';
import { io } from 'socket.io-client';
import { DeviceQueue, workSignalChannel } from '@smsfleet/contracts';
import { DEVICE_QUEUE_OPTIONS } from '@smsfleet/queueing';
import { freePort } from '../../harness/free-port';
import { BenchSystem } from '../../harness/bench-system';
import { runBaseline } from '../baselines/run-child';
import { connectFleet, fillQueues, waitUntil } from '../phones';
import { Progress } from '../progress';
import { BenchContext, scaled, Scenario, ScenarioResult } from '../result';
import { round } from '../stats';

const PER_PHONE = 20;

/** Pre-filled queues of N phones drained to connected phones, against socket.io and BullMQ alone. */
export const dispatch: Scenario = {
  name: 'dispatch',
  description: '1,000 phones connected, no pacing, queues pre-filled',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('dispatch');
    const phones = scaled(1_000, context, 2);
    const total = phones * PER_PHONE;
    const system = await BenchSystem.create();
    try {
      progress.update(`baseline (a): socket.io emit-with-ack to ${phones} plain clients`, true);
      const port = await freePort();
      const emitResult = runBaseline<{ messagesPerSecond: number }>(
        'socket-emit',
        { ...system.env(), PORT: String(port), CLIENTS: String(phones), PER_CLIENT: String(PER_PHONE) },
        (line) => {
          if (line.ready) {
            for (let i = 0; i < phones; i++) {
              const client = io(`http://127.0.0.1:${port}`, {
                transports: ['websocket'],
                reconnection: false,
              });
              client.on('sms', (_payload: unknown, ack: () => void) => ack());
              client.on('disconnect', () => client.close());
            }
          }
        },
      );
      const socketBaseline = (await emitResult).messagesPerSecond;
      progress.update(`baseline (b): BullMQ draining ${phones} queues with no-op workers`, true);
      const drainBaseline = (
        await runBaseline<{ jobsPerSecond: number }>('bullmq-drain', {
          ...system.env(),
          QUEUES: String(phones),
          PER_QUEUE: String(PER_PHONE),
        })
      ).jobsPerSecond;
      const baseline = Math.min(socketBaseline, drainBaseline);

      await system.startApps(['api', 'dispatcher', 'status']);
      const account = system.createAccount();
      const credentials = await system.registerPhones(account, phones, (n) =>
        progress.update(`registered ${n}/${phones} phones`),
      );
      const deviceIds = credentials.map((c) => c.deviceId);
      // Held while the phones connect: like both baselines, the timed part starts with every consumer ready
      // (otherwise it measures how fast 1,000 phones complete their handshake, 100 at a time).
      const queues = deviceIds.map(
        (id) =>
          new Queue(DeviceQueue.name(id), {
            ...DEVICE_QUEUE_OPTIONS,
            connection: system.redis(),
            prefix: system.redisPrefix,
          }),
      );
      await Promise.all(queues.map((queue) => queue.pause()));
      await fillQueues(system, account, deviceIds, PER_PHONE, {}, (n) =>
        progress.update(`queued ${n}/${total}`),
      );
      progress.update(`${total} messages queued; connecting ${phones} phones`, true);
      const connectStarted = Date.now();
      const fleet = await connectFleet(
        system,
        account,
        credentials,
        { sendDelayMs: 0, deliveryDelayMs: 0, failureShare: 0, reports: false },
        (n) => progress.update(`connected ${n}/${phones}`),
      );
      const connectSeconds = (Date.now() - connectStarted) / 1000;
      progress.update(`${phones} phones connected; releasing the queues`, true);
      await Promise.all(queues.map((queue) => queue.resume()));
      // What the api does when work arrives: the idle sessions fetch now, not at their next poll.
      await system.redis().publish(workSignalChannel(system.redisPrefix), deviceIds.join(','));
      await Promise.all(queues.map((queue) => queue.close()));
      const unique = () => fleet.ledger.received.length - fleet.ledger.repeats;
      await waitUntil(
        'every message at a phone',
        () => {
          progress.update(`at phones ${unique()}/${total}`);
          return unique() >= total;
        },
        600_000,
        200,
      );
      const times = fleet.ledger.received.map((entry) => entry.at);
      const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
      const rate = total / Math.max(seconds, 0.001);
      fleet.stop();
      const ratio = rate / baseline;
      progress.done(`system ${Math.round(rate)} msg/s vs baseline ${Math.round(baseline)} msg/s`);
      return {
        scenario: this.name,
        description: this.description,
        baseline: {
          label: 'slower of socket.io emit+ack and BullMQ drain',
          value: round(baseline),
          unit: 'msg/s',
        },
        system: { label: 'queue → dispatcher → phone ack', value: round(rate), unit: 'msg/s' },
        ratio: round(ratio, 3),
        target: '≥ 60 % of baseline',
        met: context.scale >= 1 ? ratio >= 0.6 : null,
        details: {
          phones,
          messages: total,
          'baseline (a) socket.io emit+ack msg/s': round(socketBaseline),
          'baseline (b) BullMQ drain jobs/s': round(drainBaseline),
          'repeats seen by phones': fleet.ledger.repeats,
          'phones connected per second (100 at a time, before the timed part)': round(
            phones / connectSeconds,
          ),
        },
      };
    } finally {
      await system.stop();
    }
  },
};
