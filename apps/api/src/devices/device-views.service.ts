import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import {
  DeviceKind,
  QUOTA_PERIODS,
  QuotaPeriod,
  quotaOfSlot,
  quotaWindows,
  quotaZoneOf,
  SendHours,
  SimInfo,
  SimQuotas,
  SimSlot,
} from '@smsfleet/contracts';
import { DevicePresence, SimQuotaCounters } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { livePresence } from './live-presence';

/** A device as getalldevices and getdevicestatus show it: stored profile plus live presence. */
export interface DeviceView {
  id: number;
  title: string;
  imei: string | null;
  serialNumber: string | null;
  appVersion: string | null;
  simInfo: SimInfo[];
  delayBetweenSms: number;
  /** The upper end of a random pace (seconds); null: a fixed pace. */
  delayMaxBetweenSms: number | null;
  /** The hours it may send in; null: any hour. */
  sendHours: SendHours | null;
  simQuotas: SimQuotas | null;
  /** By slot with a quota: what its counters hold in the current hour, day and month (null: Redis did not answer). */
  simQuotaUse: Record<string, Partial<Record<QuotaPeriod, number>>> | null;
  /** Unacknowledged messages it may hold; null: DEVICE_DEFAULT_WINDOW. */
  window: number | null;
  createdAt: Date;
  /** Never empty: the last sign of life, else the registration time (clients reject a null lastseen). */
  lastSeen: Date;
  online: boolean;
  /** Which app the phone runs, and the SIM slots it can send from. */
  kind: DeviceKind;
  sendSlots: SimSlot[];
  /** The pool it is in (at most one, ADR 2221); null: none. */
  poolId: number | null;
}

interface DeviceRow {
  id: number;
  title: string;
  imei: string | null;
  serial_number: string | null;
  app_version: string | null;
  sim_info: SimInfo[];
  delay_between_sms: number;
  delay_max_between_sms: number | null;
  send_hours: SendHours | null;
  sim_quotas: SimQuotas | null;
  send_window: number | null;
  created_at: Date;
  last_seen_at: Date | null;
  kind: DeviceKind;
  send_slots: SimSlot[];
  pool_id: number | null;
}

@Injectable()
export class DeviceViewsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly presence: DevicePresence,
    private readonly counters: SimQuotaCounters,
  ) {}

  async all(account: Account): Promise<DeviceView[]> {
    return this.views(
      await this.db.query(`${SELECT_DEVICES} WHERE user_id = $1 AND removed_at IS NULL ORDER BY id`, [
        account.id,
      ]),
    );
  }

  async one(account: Account, deviceId: number): Promise<DeviceView> {
    const rows: DeviceRow[] = await this.db.query(
      `${SELECT_DEVICES} WHERE user_id = $1 AND id = $2 AND removed_at IS NULL`,
      [account.id, deviceId],
    );
    if (rows.length === 0) throw ApiError.notFound(`device_id ${deviceId} not found among your devices`);
    return (await this.views(rows))[0];
  }

  private async views(rows: DeviceRow[]): Promise<DeviceView[]> {
    const presence = await livePresence(
      this.presence,
      rows.map((row) => row.id),
    );
    const use = await this.quotaUse(rows);
    return rows.map((row) => {
      const live = presence.get(row.id);
      // Redis has the freshest time (heartbeats); PostgreSQL keeps it across a Redis loss.
      const seen = Math.max(live?.lastSeen ?? 0, row.last_seen_at?.getTime() ?? 0, row.created_at.getTime());
      return {
        id: row.id,
        title: row.title ?? '',
        imei: row.imei,
        serialNumber: row.serial_number,
        appVersion: row.app_version,
        simInfo: row.sim_info ?? [],
        delayBetweenSms: row.delay_between_sms,
        delayMaxBetweenSms: row.delay_max_between_sms,
        sendHours: row.send_hours,
        simQuotas: row.sim_quotas,
        simQuotaUse: use.get(row.id) ?? {},
        window: row.send_window,
        createdAt: row.created_at,
        lastSeen: new Date(seen),
        online: live?.online ?? false,
        kind: row.kind,
        sendSlots: row.send_slots,
        poolId: row.pool_id,
      };
    });
  }

  /** The quota counters of the devices that have quotas, one MGET for all; null for all when Redis fails. */
  private async quotaUse(rows: DeviceRow[]): Promise<Map<number, DeviceView['simQuotaUse']>> {
    const now = Date.now();
    const wanted: Array<{ deviceId: number; slot: SimSlot; period: QuotaPeriod; key: string }> = [];
    for (const row of rows)
      for (const slot of row.send_slots) {
        const quota = quotaOfSlot(row.sim_quotas ?? undefined, slot);
        const windows = quotaWindows(now, quotaZoneOf(row.send_hours));
        for (const period of QUOTA_PERIODS)
          if (quota?.[period] !== undefined)
            wanted.push({
              deviceId: row.id,
              slot,
              period,
              key: this.counters.key(row.id, slot, windows[period].id),
            });
      }
    const use = new Map<number, DeviceView['simQuotaUse']>();
    if (wanted.length === 0) return use;
    let values: Array<number | null>;
    try {
      values = await this.counters.read(wanted.map((entry) => entry.key));
    } catch {
      for (const entry of wanted) use.set(entry.deviceId, null);
      return use;
    }
    wanted.forEach((entry, index) => {
      const byslot = use.get(entry.deviceId) ?? {};
      // No counter yet in this period: nothing taken since it began (or Redis lost it; the next send rebuilds it).
      (byslot[String(entry.slot)] ??= {})[entry.period] = values[index] ?? 0;
      use.set(entry.deviceId, byslot);
    });
    return use;
  }
}

const SELECT_DEVICES = `SELECT id, title, imei, serial_number, app_version, sim_info, delay_between_sms, delay_max_between_sms, send_window, send_hours, sim_quotas, created_at, last_seen_at, kind, send_slots,
  (SELECT pool_id FROM pool_devices WHERE pool_devices.device_id = devices.id) AS pool_id FROM devices`;
