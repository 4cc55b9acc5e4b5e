import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isSimSlot, normalisePhone } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import {
  CoalescingBatcher,
  IncomingSms,
  insertIncomingMessages,
  writeDeadLettering,
} from '@smsfleet/persistence';
import { checkObject, checkText, checkTime, InvalidInput, toStorableText } from '@smsfleet/validation';

/** Longest incoming text stored; a long concatenated SMS must never be refused, or the phone retries for ever. */
const MAX_INCOMING_BODY = 65_536;
/** INSERTs of incoming SMS in flight at once; what arrives meanwhile goes out together in the next. */
const MAX_WRITES_IN_FLIGHT = 2;
/**
 * The id answered for an SMS PostgreSQL refused on its own (ADR 1601): it is kept in dead_letters, and
 * the phone, answered, stops sending it (docs/device-protocol.md).
 */
export const DEAD_LETTERED_ID = 0;

export class InvalidIncoming extends Error {}

/**
 * An SMS a phone received (`incoming`, or the SMSGate app's webhook), stored as a message of the phone's
 * account with status 5 (Income), so getallsms lists it; the phone is answered after the commit. A
 * repeat of the same report returns the id stored the first time. The SMS of all phones of this node
 * arriving together share one INSERT; one PostgreSQL refuses is split out and dead-lettered.
 */
@Injectable()
export class IncomingSmsService {
  private readonly logger = new Logger(IncomingSmsService.name);
  private readonly batcher = new CoalescingBatcher<IncomingSms, number | undefined>(
    (records) => this.write(records),
    MAX_WRITES_IN_FLIGHT,
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: Metrics,
  ) {}

  /** The stored SMS's id (DEAD_LETTERED_ID if PostgreSQL refused it on its own). */
  async store(deviceId: number, payload: unknown): Promise<number> {
    const { from, body, sim, receivedAt } = parseIncoming(payload);
    const phone = normalisePhone(from) ?? from.slice(0, 32);
    const id = await this.batcher.submit({ deviceId, from, phone, body, sim, receivedAt });
    if (id === undefined) throw new InvalidIncoming('device not found');
    return id;
  }

  private async write(records: IncomingSms[]): Promise<Array<number | undefined>> {
    const { results, refused } = await writeDeadLettering(
      this.db,
      'incoming',
      records,
      (part) => this.insert(part),
      ({ deviceId, ...sms }) => ({ deviceId, payload: sms }),
      { metrics: this.metrics, logger: this.logger },
    );
    if (refused.length === 0) return results.map((result) => result ?? undefined);
    const dead = new Set(refused.map(({ item }) => item));
    return records.map((record, index) =>
      dead.has(record) ? DEAD_LETTERED_ID : (results[index] ?? undefined),
    );
  }

  /**
   * Answers the id per record (null: device not found); a repeat finds the row its first copy stored.
   * A transaction: the SMS and its webhook event commit together.
   */
  private async insert(records: IncomingSms[]): Promise<Array<number | null>> {
    return this.db.transaction((tx) => insertIncomingMessages(tx, records));
  }
}

/** `{from, body, sim, receivedAt}` (docs/device-protocol.md §3). */
export function parseIncoming(payload: unknown): {
  from: string;
  body: string;
  sim: number;
  receivedAt: Date;
} {
  try {
    const { from, body, sim, receivedAt } = checkObject(payload, 'payload');
    const sender = checkText(from, 'from', { max: 64 });
    if (typeof body !== 'string' || body.length > MAX_INCOMING_BODY)
      throw new InvalidInput('body', `body must be text of at most ${MAX_INCOMING_BODY} characters`);
    const slot = sim === undefined || sim === null ? 0 : Number(sim);
    if (!isSimSlot(slot)) throw new InvalidInput('sim', 'sim must be a SIM slot 0–5');
    const at = checkTime(receivedAt, 'receivedAt');
    // A phone clock ahead of ours must not put the SMS in the future.
    const received = at.getTime() > Date.now() ? new Date() : at;
    // The phone cannot change what it received: text PostgreSQL would refuse is repaired, not refused.
    return { from: sender.trim(), body: toStorableText(body), sim: slot, receivedAt: received };
  } catch (error) {
    if (error instanceof InvalidInput) throw new InvalidIncoming(error.message);
    throw error;
  }
}
