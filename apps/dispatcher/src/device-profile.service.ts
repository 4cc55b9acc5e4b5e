import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HelloPayload, SimInfo } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { CoalescingWriter, DeadLetterKind, writeDeadLettering } from '@smsfleet/persistence';
import { toStorableText } from '@smsfleet/validation';

/**
 * Locks the rows of $1 in id order before a write changes them. Hellos and touches (and another node's,
 * during a takeover) run concurrently over overlapping phones; each statement otherwise locks in the
 * order its plan meets the rows, and two different orders deadlock (the 18:29 soak, after a dispatcher
 * restart). The sort sits below the lock, so rows are locked as they leave it.
 * NO KEY UPDATE, the lock these UPDATEs take anyway: FOR UPDATE would also conflict with the KEY SHARE
 * locks that every INSERT of messages takes on its devices (foreign key), in the rows' order, and
 * deadlock with the API (309 refused requests in the 05:53 soak of 2026-12-05).
 */
const LOCK_IN_ID_ORDER = `SELECT id FROM devices WHERE id = ANY($1::int[]) ORDER BY id FOR NO KEY UPDATE`;

interface HelloRecord {
  deviceId: number;
  appVersion: string | null;
  simInfo: string | null;
}

/**
 * What a phone tells about itself (`hello`), and when it was last seen. The writes of many phones go out
 * as one statement, one at a time: after a dispatcher restart or a network blip a thousand phones
 * reconnect at once, and one UPDATE each held all of the node's PostgreSQL connections. The phones'
 * handshakes then timed out waiting for a connection to check their secret (soak, 2026-11-25).
 * A write PostgreSQL refuses is split until the refused phone's record stands alone, which is
 * dead-lettered (ADR 1601): the other phones' hellos are written, and the phone's hello is answered.
 */
@Injectable()
export class DeviceProfileService {
  private readonly logger = new Logger(DeviceProfileService.name);
  private readonly hellos = new CoalescingWriter<HelloRecord>(
    (records) =>
      this.splitting(
        'hello',
        records,
        (part) => this.writeHellos(part),
        ({ deviceId, ...hello }) => ({
          deviceId,
          payload: hello,
        }),
      ),
    1,
  );
  private readonly touches = new CoalescingWriter<number>(
    (deviceIds) =>
      this.splitting(
        'touch',
        [...new Set(deviceIds)],
        (part) => this.writeTouches(part),
        (deviceId) => ({ deviceId, payload: {} }),
      ),
    1,
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: Metrics,
  ) {}

  recordHello(deviceId: number, hello: HelloPayload): Promise<void> {
    const appVersion =
      typeof hello?.appversion === 'string' ? toStorableText(hello.appversion.slice(0, 64)) : null;
    const simInfo = Array.isArray(hello?.siminfo) ? sanitiseSimInfo(hello.siminfo) : null;
    return this.hellos.submit({
      deviceId,
      appVersion,
      simInfo: simInfo === null ? null : JSON.stringify(simInfo),
    });
  }

  /** Once per connect and disconnect, never per heartbeat. */
  touch(deviceId: number): Promise<void> {
    return this.touches.submit(deviceId);
  }

  /** Writes `items`, splitting out and dead-lettering what PostgreSQL refuses (ADR 1601). */
  private async splitting<T>(
    kind: DeadLetterKind,
    items: T[],
    write: (items: T[]) => Promise<void>,
    describe: (item: T) => { deviceId: number; payload: unknown },
  ): Promise<void> {
    await writeDeadLettering(
      this.db,
      kind,
      items,
      async (part) => {
        await write(part);
        return part;
      },
      describe,
      { metrics: this.metrics, logger: this.logger },
    );
  }

  private async writeHellos(records: HelloRecord[]): Promise<void> {
    // One row per device (the latest hello wins), or UPDATE … FROM would pick one of them at random.
    const latest = [...new Map(records.map((record) => [record.deviceId, record])).values()];
    await this.db.query(
      `WITH locked AS (${LOCK_IN_ID_ORDER})
       UPDATE devices AS d
          SET app_version = COALESCE(v.app_version, d.app_version),
              sim_info = COALESCE(v.sim_info::jsonb, d.sim_info),
              last_seen_at = now()
         FROM unnest($1::int[], $2::text[], $3::text[]) AS v(id, app_version, sim_info)
        WHERE d.id = v.id AND d.id IN (SELECT id FROM locked)`,
      [latest.map((r) => r.deviceId), latest.map((r) => r.appVersion), latest.map((r) => r.simInfo)],
    );
  }

  private async writeTouches(deviceIds: number[]): Promise<void> {
    await this.db.query(
      `WITH locked AS (${LOCK_IN_ID_ORDER})
       UPDATE devices SET last_seen_at = now() WHERE id IN (SELECT id FROM locked)`,
      [deviceIds],
    );
  }
}

function sanitiseSimInfo(items: unknown[]): SimInfo[] {
  return items.slice(0, 6).flatMap((item) => {
    if (item === null || typeof item !== 'object') return [];
    const sim = item as Record<string, unknown>;
    const slot = Number(sim.Slot);
    if (!Number.isInteger(slot) || slot < 0 || slot > 5) return [];
    const text = (value: unknown) =>
      typeof value === 'string' || typeof value === 'number'
        ? toStorableText(String(value).slice(0, 64))
        : undefined;
    return [
      {
        Slot: slot,
        IccId: text(sim.IccId),
        Number: text(sim.Number),
        Roaming: sim.Roaming === true,
        CountryIso: text(sim.CountryIso),
        CarrierName: text(sim.CarrierName),
      },
    ];
  });
}
