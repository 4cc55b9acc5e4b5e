import type { DeviceWorker } from '@smsfleet/queueing';
import {
  DeviceEvent,
  DeviceRules,
  parseSendHours,
  SendHours,
  SendSmsJob,
  SmsAck,
  SmsPayload,
  StatusReport,
} from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import type { DeviceSocket } from '../socket/device-socket';
import { SocketTransport } from '../socket/socket-transport';
import { CallGate } from './call-gate';
import { DeviceSession, SessionContext } from './device-session';

/**
 * The session's window rules in isolation (the e2e suites run it against real Redis and phones; here the
 * queue and the phone are in memory so that a report can be held "being recorded" at will).
 */

type Ack = (error: Error | null, ack: SmsAck | undefined) => void;

class MemoryJob {
  constructor(
    readonly id: string,
    readonly data: SendSmsJob,
    readonly priority: number,
  ) {}
  readonly timestamp = Date.now();
  readonly delay = 0;
  async moveToCompleted(): Promise<void> {}
  async moveToWait(): Promise<void> {}
  /** Where a hold put it: the delayed set's time, and the data it was marked with. */
  delayedUntil?: number;
  updatedData?: SendSmsJob;
  async updateData(data: SendSmsJob): Promise<void> {
    this.updatedData = data;
  }
  async moveToDelayed(until: number): Promise<void> {
    this.delayedUntil = until;
  }
}

/** A device queue: urgent jobs (priority 1) before normal ones, first in first out within a priority. */
class MemoryWorker {
  readonly waiting: MemoryJob[] = [];
  readonly fetched: MemoryJob[] = [];
  readonly nextDelayedAt = 0;
  private nextId = 1;

  add(urgent: boolean, poolId?: number): number {
    const messageId = this.nextId++;
    const data: SendSmsJob = {
      messageId,
      sendto: '+4915700000000',
      body: 'x',
      sim: 0,
      urgent,
      validUntil: Date.now() + 3_600_000,
      ...(poolId === undefined ? {} : { poolId }),
    };
    this.waiting.push(new MemoryJob(`m${messageId}`, data, urgent ? 1 : 2));
    this.waiting.sort((a, b) => a.priority - b.priority);
    return messageId;
  }

  async fetch(_token: string, count: number): Promise<MemoryJob[]> {
    const jobs = this.waiting.splice(0, count);
    this.fetched.push(...jobs);
    return jobs;
  }

  async completeAndFetch(): Promise<MemoryJob | undefined> {
    return this.waiting.shift();
  }

  async startStalledCheckTimer(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The phone side of the socket: every `sms` event it got, with the callback that acknowledges it. */
class MemoryPhone {
  readonly received: Array<{ payload: SmsPayload; ack: Ack }> = [];
  readonly id = 'socket-1';

  timeout(): { emit: (event: string, payload: SmsPayload, ack: Ack) => void } {
    return {
      emit: (event, payload, ack) => {
        if (event === DeviceEvent.sms) this.received.push({ payload, ack });
      },
    };
  }

  emit(): boolean {
    return true;
  }

  ackAll(): void {
    for (const entry of this.received.splice(0)) entry.ack(null, { accepted: true });
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A session not started yet: `reclaim` stands for taking back the previous owner's jobs. */
function buildSession(
  window: number,
  queueCalls = new CallGate(64),
  reclaim = async () => 0,
  rules: Partial<DeviceRules> = {},
) {
  const worker = new MemoryWorker();
  const phone = new MemoryPhone();
  // Reports stay "being recorded" until the test releases them.
  const heldReports: Array<() => void> = [];
  // Emission marks, with how many events the phone had received when each was written.
  const marks: Array<{ messageId: number; data?: SendSmsJob; receivedBefore: number }> = [];
  const context: SessionContext = {
    ackTimeoutMs: 60_000,
    idlePollMs: 60_000,
    maxUnackedSends: 5,
    report: (_deviceId: number, _reports: StatusReport[]) =>
      new Promise<void>((resolve) => heldReports.push(resolve)),
    reclaim,
    releaseHeld: async () => 0,
    markEmitted: async (_deviceId, messageId, data) => {
      marks.push({ messageId, data, receivedBefore: phone.received.length });
    },
    markEmittedMany: async (_deviceId, messageIds) => {
      for (const messageId of messageIds) marks.push({ messageId, receivedBefore: phone.received.length });
    },
    quotas: { reserve: async () => ({ keys: [] }), release: async () => undefined },
    queueCalls,
    metrics: new Metrics(),
    log: { warn: () => undefined, debug: () => undefined },
  };
  for (let i = 0; i < 5; i++) worker.add(false);
  const session = new DeviceSession(
    7,
    new SocketTransport(phone as unknown as DeviceSocket),
    worker as unknown as DeviceWorker,
    { delaybetweeneachsms: 0, window, ...rules },
    context,
    'node',
  );
  return { session, worker, phone, heldReports, marks, context };
}

async function startSession(window: number, queueCalls = new CallGate(64)) {
  const built = buildSession(window, queueCalls);
  await built.session.start();
  await flush();
  return built;
}

describe('DeviceSession window', () => {
  let session: DeviceSession | undefined;
  let heldReports: Array<() => void> = [];
  afterEach(async () => {
    // Closing waits for the records in progress.
    for (const release of heldReports.splice(0)) release();
    await session?.close();
    session = undefined;
  });

  it('fills the window and no more while the phone has not acknowledged', async () => {
    const started = await startSession(2);
    ({ session, heldReports } = started);
    expect(started.phone.received.map((entry) => entry.payload.id)).toEqual([1, 2]);
    // An urgent message cannot pass the window while both events are unacknowledged.
    const urgentId = started.worker.add(true);
    session.wake(true);
    await flush();
    expect(started.phone.received).toHaveLength(2);
    // The first ack frees a slot for it at once, while that ack is still being recorded.
    started.phone.received[0].ack(null, { accepted: true });
    await flush();
    expect(started.phone.received.map((entry) => entry.payload.id)).toEqual([1, 2, urgentId]);
    expect(started.phone.received[2].payload.urgent).toBe(true);
  });

  it('sends an urgent message at once into a slot whose ack is being recorded, never more than the window unacknowledged', async () => {
    const started = await startSession(2);
    ({ session, heldReports } = started);
    started.phone.ackAll();
    await flush();
    // Both acks are being recorded: the slots are still held, so a normal wake fetches nothing.
    expect(session.inFlightCount).toBe(2);
    session.wake();
    await flush();
    expect(started.phone.received).toHaveLength(0);

    const urgentId = started.worker.add(true);
    session.wake(true);
    await flush();
    expect(started.phone.received.map((entry) => entry.payload.id)).toEqual([urgentId]);
    // The signal is used up: one urgent slot per urgent message, not a window that grows.
    session.wake();
    await flush();
    expect(started.phone.received).toHaveLength(1);

    // Once the records finish, the window refills with normal messages, to `window` unacknowledged.
    for (const release of heldReports.splice(0)) release();
    await flush();
    await flush();
    expect(started.phone.received.map((entry) => entry.payload.id)).toEqual([urgentId, 3]);
  });

  it('fetches nothing before it has started: a wake before the reclaim would send what the reclaim puts back', async () => {
    let reclaimed!: () => void;
    const built = buildSession(
      2,
      undefined,
      () => new Promise<number>((resolve) => (reclaimed = () => resolve(0))),
    );
    ({ session, heldReports } = built);
    // Registered, woken by a work signal (urgent or not), lease or reclaim still in progress.
    session.wake();
    session.wake(true);
    await flush();
    expect(built.phone.received).toHaveLength(0);
    const starting = session.start();
    await flush();
    expect(built.phone.received).toHaveLength(0);
    expect(built.worker.waiting).toHaveLength(5);
    // Only once the previous owner's jobs are back does it fetch, and then the window at once.
    reclaimed();
    await starting;
    await flush();
    expect(built.phone.received.map((entry) => entry.payload.id)).toEqual([1, 2]);
  });

  it('fetches an urgent message past a gate that other phones keep full', async () => {
    const gate = new CallGate(1);
    // Another phone's call holds the node's only slot.
    let releaseOther!: () => void;
    const other = gate.run(() => new Promise<void>((resolve) => (releaseOther = resolve)));
    const started = await startSession(2, gate);
    ({ session, heldReports } = started);
    expect(started.phone.received).toHaveLength(0);
    expect(gate.queued).toBe(1);

    const urgentId = started.worker.add(true);
    session.wake(true);
    await flush();
    expect(started.phone.received.map((entry) => entry.payload.id)).toEqual([urgentId]);

    // The normal fetch waited its turn and goes once the slot is free.
    releaseOther();
    await other;
    await flush();
    await flush();
    expect(started.phone.received.map((entry) => entry.payload.id)).toEqual([urgentId, 1]);
  });
});

describe('DeviceSession send hours', () => {
  /** Hours that exclude now: the hour that started 12 hours ago, in UTC, every day. */
  function closedNow(urgent: boolean): SendHours {
    const hour = (new Date().getUTCHours() + 12) % 24;
    const clock = (h: number) => `${String(h).padStart(2, '0')}:00`;
    return parseSendHours(`daily ${clock(hour)}-${clock(hour + 1)}`, 'UTC', urgent) as SendHours;
  }

  it('holds every due message back until the hours open, marked held, and sends none', async () => {
    const hours = closedNow(false);
    const built = buildSession(3, undefined, undefined, { sendHours: hours });
    await built.session.start();
    await flush();
    await flush();
    expect(built.phone.received).toHaveLength(0);
    expect(built.worker.fetched).toHaveLength(5);
    for (const job of built.worker.fetched) {
      expect(job.updatedData).toMatchObject({ held: 'hours', messageId: job.data.messageId });
      // At the opening, never later than an hour from now plus 12 (the window is one hour a day).
      expect(job.delayedUntil).toBeGreaterThan(Date.now());
      expect(job.delayedUntil).toBeLessThanOrEqual(Date.now() + 13 * 3_600_000);
    }
    await built.session.close();
  });

  it('lets an urgent message through when the hours allow urgent ones, and only then', async () => {
    for (const urgentAllowed of [true, false]) {
      const built = buildSession(3, undefined, undefined, { sendHours: closedNow(urgentAllowed) });
      built.worker.waiting.splice(0);
      const urgentId = built.worker.add(true);
      await built.session.start();
      await flush();
      await flush();
      expect(built.phone.received.map((entry) => entry.payload.id)).toEqual(urgentAllowed ? [urgentId] : []);
      built.phone.ackAll();
      await flush();
      for (const release of built.heldReports.splice(0)) release();
      await built.session.close();
    }
  });
});

describe('DeviceSession emission marks of pool messages (ADR 2221 §6)', () => {
  it('marks a pool message before the phone gets it, folded with its quota counters; a pinned one never', async () => {
    const built = buildSession(10, undefined, undefined, { simQuotas: { all: { day: 100 } } });
    built.worker.waiting.splice(0);
    const pinned = built.worker.add(false);
    const pooled = built.worker.add(false, 3);
    built.context.quotas.reserve = async () => ({ keys: ['q:7:0:d'] });
    await built.session.start();
    await flush();
    await flush();
    expect(built.phone.received.map((entry) => entry.payload.id)).toEqual([pinned, pooled]);
    // One write for the pool message: its mark and its counters, before its event (the pinned one was first).
    expect(built.marks).toEqual([
      {
        messageId: pooled,
        data: expect.objectContaining({ poolId: 3, quotaKeys: ['q:7:0:d'] }),
        receivedBefore: 1,
      },
    ]);
    // The pinned one kept BullMQ's own data write.
    expect(built.worker.fetched[0].updatedData).toMatchObject({ quotaKeys: ['q:7:0:d'] });
    expect(built.worker.fetched[1].updatedData).toBeUndefined();
    built.phone.ackAll();
    await flush();
    for (const release of built.heldReports.splice(0)) release();
    await built.session.close();
  });

  it('marks the pool messages of one fetch in one call, before the phone gets any of them', async () => {
    const built = buildSession(10);
    built.worker.waiting.splice(0);
    const ids = [1, 2, 3, 4, 5].map(() => built.worker.add(false, 3));
    const calls: number[][] = [];
    const markMany = built.context.markEmittedMany;
    built.context.markEmittedMany = async (deviceId, messageIds) => {
      calls.push([...messageIds]);
      await markMany(deviceId, messageIds);
    };
    await built.session.start();
    await flush();
    await flush();
    expect(built.phone.received.map((entry) => entry.payload.id)).toEqual(ids);
    // An idle phone's first fetch takes one job (marked alone); the rest of the window comes in one fetch.
    expect(calls).toEqual([ids.slice(1)]);
    expect(built.marks.map((mark) => [mark.messageId, mark.receivedBefore])).toEqual([
      [ids[0], 0],
      ...ids.slice(1).map((id) => [id, 1]),
    ]);
    built.phone.ackAll();
    await flush();
    for (const release of built.heldReports.splice(0)) release();
    await built.session.close();
  });

  it('marks a pool message without quotas, and none held back before its emission', async () => {
    const hour = (new Date().getUTCHours() + 12) % 24;
    const clock = (h: number) => `${String(h).padStart(2, '0')}:00`;
    const closed = parseSendHours(`daily ${clock(hour)}-${clock(hour + 1)}`, 'UTC', true) as SendHours;
    const built = buildSession(10, undefined, undefined, { sendHours: closed });
    built.worker.waiting.splice(0);
    const held = built.worker.add(false, 3);
    const urgent = built.worker.add(true, 3);
    await built.session.start();
    await flush();
    await flush();
    expect(built.phone.received.map((entry) => entry.payload.id)).toEqual([urgent]);
    expect(built.marks).toEqual([{ messageId: urgent, data: undefined, receivedBefore: 0 }]);
    expect(built.worker.fetched.find((job) => job.data.messageId === held)?.updatedData).toMatchObject({
      held: 'hours',
    });
    built.phone.ackAll();
    await flush();
    for (const release of built.heldReports.splice(0)) release();
    await built.session.close();
  });
});
