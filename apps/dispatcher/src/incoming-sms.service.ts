import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isSimSlot, MessageStatus, normalisePhone } from '@smsfleet/contracts';
import { checkObject, checkText, checkTime, InvalidInput, toStorableText } from '@smsfleet/validation';

/** Longest incoming text stored; a long concatenated SMS must never be refused, or the phone retries for ever. */
const MAX_INCOMING_BODY = 65_536;

export class InvalidIncoming extends Error {}

/**
 * An SMS a phone received (`incoming`), stored as a message of the phone's account with status 5
 * (Income), so getallsms lists it. A repeat of the same report returns the id stored the first time.
 */
@Injectable()
export class IncomingSmsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async store(deviceId: number, payload: unknown): Promise<number> {
    const { from, body, sim, receivedAt } = parseIncoming(payload);
    const phone = normalisePhone(from) ?? from.slice(0, 32);
    const params = [deviceId, from, phone, body, sim, receivedAt, MessageStatus.Income];
    const rows: Array<{ id: number }> = await this.db.query(
      `WITH stored AS (
         INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, status, time_to_send, valid_until, sent_at, enqueued_at)
         SELECT d.user_id, d.id, $2::text, $3::text, $4::text, $5::smallint, $7::smallint, $6::timestamptz, $6::timestamptz, $6::timestamptz, now()
           FROM devices d WHERE d.id = $1 AND d.removed_at IS NULL
         ON CONFLICT (device_id, time_to_send, phone, md5(body)) WHERE status = 5 DO NOTHING
         RETURNING id)
       SELECT id FROM stored
       UNION ALL
       SELECT id FROM messages
        WHERE device_id = $1 AND time_to_send = $6 AND phone = $3 AND md5(body) = md5($4) AND status = $7
       LIMIT 1`,
      params,
    );
    if (rows.length === 0) throw new InvalidIncoming('device not found');
    return rows[0].id;
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
