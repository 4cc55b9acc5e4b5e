import { CallGate } from './call-gate';

/** A call that finishes when the test says so. */
function pendingCall<T>(value: T) {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<T>((resolve, reject) => {
    finish = () => resolve(value);
    fail = reject;
  });
  return { call: () => done, finish, fail };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CallGate', () => {
  it('runs at most `limit` calls at once and starts the waiting ones in order', async () => {
    const gate = new CallGate(2);
    const calls = [0, 1, 2, 3].map((n) => pendingCall(n));
    const started: number[] = [];
    const results = calls.map((c, n) =>
      gate.run(() => {
        started.push(n);
        return c.call();
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(gate.queued).toBe(2);

    calls[1].finish();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    expect(gate.inFlight).toBe(2);

    calls[0].finish();
    calls[2].finish();
    calls[3].finish();
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2, 3]);
    expect(gate.inFlight).toBe(0);
    expect(gate.queued).toBe(0);
  });

  it('lets an urgent call past a full gate, and does not hand its slot on beyond the limit', async () => {
    const gate = new CallGate(1);
    const normal = pendingCall('normal');
    const waiting = pendingCall('waiting');
    const urgent = pendingCall('urgent');
    const started: string[] = [];
    const track = (name: string, c: { call: () => Promise<string> }) => () => {
      started.push(name);
      return c.call();
    };
    const first = gate.run(track('normal', normal));
    const second = gate.run(track('waiting', waiting));
    const third = gate.run(track('urgent', urgent), true);
    await flush();
    expect(started).toEqual(['normal', 'urgent']);
    expect(gate.inFlight).toBe(2);

    // The urgent call's slot was above the limit: freeing it starts nobody.
    urgent.finish();
    await third;
    await flush();
    expect(started).toEqual(['normal', 'urgent']);

    normal.finish();
    await first;
    await flush();
    expect(started).toEqual(['normal', 'urgent', 'waiting']);
    waiting.finish();
    await second;
    expect(gate.inFlight).toBe(0);
  });

  it('frees the slot of a call that fails', async () => {
    const gate = new CallGate(1);
    const failing = pendingCall('x');
    const next = pendingCall('next');
    const first = gate.run(failing.call);
    const second = gate.run(next.call);
    failing.fail(new Error('Redis said no'));
    await expect(first).rejects.toThrow('Redis said no');
    next.finish();
    await expect(second).resolves.toBe('next');
    expect(gate.inFlight).toBe(0);
  });
});
