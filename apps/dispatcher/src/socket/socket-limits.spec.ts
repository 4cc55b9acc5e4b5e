import { loadConfig } from '@smsfleet/config';
import { Metrics } from '@smsfleet/observability';
import { AddressWindows } from '../limits/address-windows';
import { PhoneLimits } from '../limits/phone-limits';
import type { DeviceSocket } from './device-socket';
import { limitEvents } from './socket-limits';

type Middleware = (packet: unknown[], next: () => void) => void;

/** A socket as far as `limitEvents` uses it: its middleware, emits and disconnects are recorded. */
function fakeSocket() {
  const record = {
    middleware: undefined as Middleware | undefined,
    emitted: [] as unknown[][],
    disconnected: 0,
  };
  const socket = {
    use: (fn: Middleware) => (record.middleware = fn),
    emit: (...args: unknown[]) => record.emitted.push(args),
    disconnect: () => record.disconnected++,
  };
  return { socket: socket as unknown as DeviceSocket, record };
}

describe('limitEvents', () => {
  const config = loadConfig({
    PHONE_LIMIT_EVENTS_PER_SECOND: '1',
    PHONE_LIMIT_REPORTS_PER_SECOND: '100',
    PHONE_LIMIT_REFUSALS_BEFORE_GOODBYE: '3',
    PHONE_LIMIT_GOODBYE_RETRY_AFTER_MS: '5000',
  });
  // `admit` never reaches Redis: the shared windows are only for handshakes.
  const limits = () => new PhoneLimits({} as AddressWindows, new Metrics(), config);

  it('passes events within the budget, then drops them with a rate_limited ack', () => {
    const { socket, record } = fakeSocket();
    limitEvents(socket, 1, '10.0.0.1', limits(), () => undefined);
    let passed = 0;
    const acks: unknown[] = [];
    for (let i = 0; i < 11; i++)
      record.middleware?.(['hello', {}, (answer: unknown) => acks.push(answer)], () => passed++);
    expect(passed).toBe(10);
    expect(acks).toEqual([{ ok: false, error: 'rate_limited', retryAfterMs: expect.any(Number) }]);
  });

  it('counts each report of a status array, and an incoming by its size', () => {
    const { socket, record } = fakeSocket();
    limitEvents(socket, 2, '10.0.0.2', limits(), () => undefined);
    let passed = 0;
    const reports = Array.from({ length: 1_000 }, (_, id) => ({ id, status: 6, at: '' }));
    record.middleware?.(['status', reports], () => passed++);
    record.middleware?.(['status', [{ id: 1, status: 7, at: '' }]], () => passed++);
    // 1,000 reports take the whole burst of 1,000: the next report waits.
    expect(passed).toBe(1);
    // A 20 KB incoming costs 20, charged as the whole burst of 10 (possible from a full bucket only).
    record.middleware?.(['incoming', { body: 'x'.repeat(20_000) }], () => passed++);
    record.middleware?.(['incoming', { body: 'x' }], () => passed++);
    expect(passed).toBe(2);
  });

  it('sends a phone that keeps sending away: goodbye, disconnect, and nothing handled after', () => {
    const { socket, record } = fakeSocket();
    const sentAway: number[] = [];
    limitEvents(socket, 3, '10.0.0.3', limits(), (ms) => sentAway.push(ms));
    let passed = 0;
    for (let i = 0; i < 20; i++) record.middleware?.(['nosuchevent', i], () => passed++);
    expect(passed).toBe(10);
    expect(record.emitted).toEqual([['goodbye', { reason: 'rate_limited', retryAfterMs: 5_000 }]]);
    expect(record.disconnected).toBe(1);
    expect(sentAway).toEqual([5_000]);
  });

  it('keeps devices apart', () => {
    const shared = limits();
    let passed = 0;
    for (const deviceId of [4, 5]) {
      const { socket, record } = fakeSocket();
      limitEvents(socket, deviceId, '10.0.0.4', shared, () => undefined);
      for (let i = 0; i < 10; i++) record.middleware?.(['hello', {}], () => passed++);
    }
    expect(passed).toBe(20);
  });
});
