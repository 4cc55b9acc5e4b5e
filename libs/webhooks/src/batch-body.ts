/** Events one batched POST may carry: a subscription's `batch_size` is at most this. */
export const MAX_BATCH_EVENTS = 100;

/**
 * The body of a batched delivery, `{"events":[…]}`: the stored envelopes' texts joined as they are, so
 * each event inside is byte for byte the body a single delivery of it sends (the signature covers the
 * whole body). The caller gives the events of one subscription in the order they are to be read.
 */
export function batchBody(envelopes: readonly string[]): string {
  if (envelopes.length === 0) throw new Error('a batch holds at least one event');
  return `{"events":[${envelopes.join(',')}]}`;
}
