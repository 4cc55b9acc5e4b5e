import { DeviceEvent, GoodbyePayload, RateLimitedAck } from '@smsfleet/contracts';
import { EventKind, PhoneLimits } from '../limits/phone-limits';
import type { DeviceSocket } from './device-socket';

/** Refusals are counted over this long; a phone past `refusalsBeforeGoodbye` within it is sent away. */
export const REFUSALS_WINDOW_MS = 10_000;

/** An `incoming` costs one more per this many characters of its body: a row of up to 64 K is stored. */
const INCOMING_CHARACTERS_PER_TOKEN = 1_024;

/**
 * What one event costs: a `status` array counts each report (up to 1,000) against the reports' budget;
 * an `incoming` one plus one per KB of its body, anything else one, against the events' budget.
 */
function costOf(event: unknown, args: unknown[]): { kind: EventKind; cost: number } {
  const payload = args[0];
  if (event === DeviceEvent.status)
    return { kind: 'reports', cost: Array.isArray(payload) ? Math.max(1, payload.length) : 1 };
  const body = (payload as { body?: unknown } | null | undefined)?.body;
  if (event === DeviceEvent.incoming && typeof body === 'string')
    return { kind: 'events', cost: 1 + Math.floor(body.length / INCOMING_CHARACTERS_PER_TOKEN) };
  return { kind: 'events', cost: 1 };
}

/**
 * Every event a connected phone sends passes here before any handler (a socket middleware sees every
 * event name, bound or not): over its device's or its address's rate, the event is dropped and its ack, if
 * it asked for one, answers `{ok:false, error:"rate_limited", retryAfterMs}`. A phone that keeps sending
 * regardless — `refusalsBeforeGoodbye` refusals within ten seconds — gets a `goodbye` and is disconnected;
 * its handshakes are refused until `retryAfterMs` has passed (docs/device-protocol.md §3a).
 */
export function limitEvents(
  socket: DeviceSocket,
  deviceId: number,
  address: string,
  limits: PhoneLimits,
  onSentAway: (retryAfterMs: number) => void,
): void {
  let refusals: number[] = [];
  let sentAway = false;
  socket.use((packet, next) => {
    if (sentAway) return;
    const [event, ...args] = packet;
    const { kind, cost } = costOf(event, args);
    const wait = limits.admit(kind, deviceId, address, cost);
    if (wait === 0) return next();
    const ack = args[args.length - 1];
    if (typeof ack === 'function') {
      const answer: RateLimitedAck = { ok: false, error: 'rate_limited', retryAfterMs: wait };
      (ack as (answer: RateLimitedAck) => void)(answer);
    }
    const now = Date.now();
    refusals = refusals.filter((at) => at > now - REFUSALS_WINDOW_MS);
    refusals.push(now);
    if (refusals.length < limits.limits.refusalsBeforeGoodbye) return;
    sentAway = true;
    const retryAfterMs = limits.limits.goodbyeRetryAfterMs;
    const goodbye: GoodbyePayload = { reason: 'rate_limited', retryAfterMs };
    socket.emit(DeviceEvent.goodbye, goodbye);
    onSentAway(retryAfterMs);
    // The goodbye leaves first: engine.io flushes what it holds before it closes the transport.
    socket.disconnect(true);
  });
}
