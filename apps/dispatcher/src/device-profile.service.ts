import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HelloPayload, SimInfo } from '@smsfleet/contracts';

/** What a phone tells about itself (`hello`), and when it was last seen. */
@Injectable()
export class DeviceProfileService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async recordHello(deviceId: number, hello: HelloPayload): Promise<void> {
    const appVersion = typeof hello?.appversion === 'string' ? hello.appversion.slice(0, 64) : null;
    const simInfo = Array.isArray(hello?.siminfo) ? sanitiseSimInfo(hello.siminfo) : null;
    await this.db.query(
      `UPDATE devices SET app_version = COALESCE($2, app_version), sim_info = COALESCE($3::jsonb, sim_info), last_seen_at = now()
        WHERE id = $1`,
      [deviceId, appVersion, simInfo === null ? null : JSON.stringify(simInfo)],
    );
  }

  /** Once per connect and disconnect, never per heartbeat. */
  async touch(deviceId: number): Promise<void> {
    await this.db.query(`UPDATE devices SET last_seen_at = now() WHERE id = $1`, [deviceId]);
  }
}

function sanitiseSimInfo(items: unknown[]): SimInfo[] {
  return items.slice(0, 6).flatMap((item) => {
    if (item === null || typeof item !== 'object') return [];
    const sim = item as Record<string, unknown>;
    const slot = Number(sim.Slot);
    if (!Number.isInteger(slot) || slot < 0 || slot > 5) return [];
    const text = (value: unknown) =>
      typeof value === 'string' || typeof value === 'number' ? String(value).slice(0, 64) : undefined;
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
