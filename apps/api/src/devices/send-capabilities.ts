import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TtlCache } from '@smsfleet/auth';
import { DeviceKind, SimSlot } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { describeItemErrors, ItemError } from '../common/item-errors';

const SLOT_NAMES: Record<SimSlot, string> = {
  0: 'SMS from SIM 1',
  1: 'SMS from SIM 2',
  2: 'WhatsApp Business',
  3: 'WhatsApp',
  4: 'RCS from SIM 1',
  5: 'RCS from SIM 2',
};

const KIND_NAMES: Record<DeviceKind, string> = { socket: 'smsfleet app', smsgate: 'SMSGate app' };

interface Capability {
  kind: DeviceKind;
  slots: SimSlot[];
}

/**
 * What each device can send (its kind's SIM slots): a message for a slot its device cannot send from is
 * refused at intake, before anything is stored, rather than failing on the phone later.
 */
@Injectable()
export class SendCapabilities {
  /** A device's kind never changes: what it can send is remembered a while (one query less per request). */
  private readonly known = new TtlCache<number, Capability>(60_000, 100_000);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Refuses the request if a message's device cannot send from its slot; bulk items are listed by index. */
  async assertSendable(messages: Array<{ deviceId: number; sim: SimSlot }>, bulk = false): Promise<void> {
    const capabilities = await this.of([...new Set(messages.map((message) => message.deviceId))]);
    const refused: ItemError[] = messages.flatMap((message, index) => {
      const capability = capabilities.get(message.deviceId);
      if (!capability || capability.slots.includes(message.sim)) return [];
      return [{ index, field: 'sim', message: refusal(message.deviceId, message.sim, capability) }];
    });
    if (refused.length === 0) return;
    if (bulk) throw new ApiError('validation', describeItemErrors(refused), refused);
    throw ApiError.validation(refused[0].message);
  }

  private async of(deviceIds: number[]): Promise<Map<number, Capability>> {
    const result = new Map<number, Capability>();
    const missing = deviceIds.filter((id) => {
      const cached = this.known.get(id);
      if (cached) result.set(id, cached);
      return !cached;
    });
    if (missing.length === 0) return result;
    const rows: Array<{ id: number; kind: DeviceKind; send_slots: SimSlot[] }> = await this.db.query(
      `SELECT id, kind, send_slots FROM devices WHERE id = ANY($1::int[])`,
      [missing],
    );
    for (const row of rows) {
      const capability = { kind: row.kind, slots: row.send_slots };
      this.known.set(row.id, capability);
      result.set(row.id, capability);
    }
    return result;
  }
}

function refusal(deviceId: number, sim: SimSlot, capability: Capability): string {
  const can = capability.slots.map((slot) => `${slot} (${SLOT_NAMES[slot]})`).join(', ');
  return `device ${deviceId} (${KIND_NAMES[capability.kind]}) cannot send sim ${sim} (${SLOT_NAMES[sim]}); it sends from sim ${can}`;
}
