import { readFileSync, writeFileSync } from 'node:fs';
import type { ClientLedgerEntry, PhoneLedgerSummary } from '@smsfleet/invariants';
import type { PhoneLedger } from './simulator/phone-ledger';
import { UsageError } from './cli-args';

/**
 * Ledger files for `cli check`, JSON Lines:
 * - client: `{"status":200,"ids":[1,2]}` per request (other fields, e.g. `key`, are ignored);
 * - phone: `{"event":"received","id":1,"repeat":false,"device":5}` per `sms` event (`device` optional: the
 *   phone that received it, for L13), `{"event":"sent","id":1}` per
 *   real send to radio, and `{"event":"acked","id":1,"status":7}` per status report the server acknowledged.
 */
export function readClientLedger(path: string): ClientLedgerEntry[] {
  return jsonLines(path).map((entry, index) => {
    const { status, ids } = entry as { status?: unknown; ids?: unknown };
    if (typeof status !== 'number' || !Array.isArray(ids) || !ids.every(Number.isSafeInteger))
      throw new UsageError(`${path}:${index + 1}: expected {"status":number,"ids":[number,…]}`);
    return { status, ids: ids as number[] };
  });
}

export function readPhoneLedger(path: string): PhoneLedgerSummary {
  const sends = new Map<number, number>();
  const acked: Array<[number, number]> = [];
  const receivers = new Map<number, Set<number>>();
  let received = 0;
  let repeats = 0;
  jsonLines(path).forEach((entry, index) => {
    const { event, id, repeat, status, device } = entry as {
      event?: unknown;
      id?: unknown;
      repeat?: unknown;
      status?: unknown;
      device?: unknown;
    };
    if (
      !Number.isSafeInteger(id) ||
      (device !== undefined && !Number.isSafeInteger(device)) ||
      (event !== 'received' && event !== 'sent' && event !== 'acked') ||
      (event === 'acked' && !Number.isSafeInteger(status))
    )
      throw new UsageError(
        `${path}:${index + 1}: expected {"event":"received"|"sent","id":number} (a received one may name its "device":number) or {"event":"acked","id":number,"status":number}`,
      );
    if (event === 'sent') sends.set(id as number, (sends.get(id as number) ?? 0) + 1);
    else if (event === 'acked') acked.push([id as number, status as number]);
    else {
      received++;
      if (repeat === true) repeats++;
      if (device !== undefined) {
        const devices = receivers.get(id as number) ?? new Set<number>();
        devices.add(device as number);
        receivers.set(id as number, devices);
      }
    }
  });
  return { sends, received, repeats, acked, receivers };
}

function jsonLines(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new UsageError(`${path}:${index + 1}: not JSON`);
      }
    });
}

/** Writes a client ledger file (extra fields such as the idempotency key are kept for people to read). */
export function writeClientLedger(path: string, entries: ClientLedgerEntry[]): void {
  writeFileSync(path, entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n');
}

/** Writes the phone ledgers of one or more fleets as one phone ledger file. */
export function writePhoneLedger(path: string, ledgers: PhoneLedger[]): void {
  writeFileSync(path, ledgers.flatMap((ledger) => ledger.toJsonLines()).join('\n') + '\n');
}
