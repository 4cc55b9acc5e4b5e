import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceRules, SendHours, SimQuotas } from '@smsfleet/contracts';
import { DEVICE_SETTINGS_COLUMNS, DeviceSettingsRow, deviceSettingsFromRow } from '@smsfleet/persistence';
import { DeviceQueues, DeviceSettingsSignal, PoolChangedSignal } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { PaceInput } from './device-settings-input';

export interface DeviceSettingsChange {
  pace?: PaceInput;
  window?: number;
  /** `hours: null` clears them. */
  sendHours?: { hours: SendHours | null };
  /** `quotas: null` clears them. */
  simQuotas?: { quotas: SimQuotas | null };
}

/**
 * Pace, window, send hours and SIM quotas of a phone: stored in PostgreSQL, then announced to the dispatchers, whose session of
 * that phone applies them at once (and tells the phone) — no restart, no reconnect.
 */
@Injectable()
export class DeviceSettingsService {
  private readonly logger = new Logger(DeviceSettingsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly signal: DeviceSettingsSignal,
    private readonly poolChanged: PoolChangedSignal,
    private readonly queues: DeviceQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async update(account: Account, deviceId: number, change: DeviceSettingsChange): Promise<DeviceRules> {
    const { pace } = change;
    const rows: DeviceSettingsRow[] = await this.db.query(
      // A SELECT around the UPDATE: TypeORM answers a bare UPDATE with [rows, count]. A pace given sets
      // both ends: a single number clears an earlier range.
      `WITH updated AS (
         UPDATE devices
            SET delay_between_sms = CASE WHEN $5 THEN $3 ELSE delay_between_sms END,
                delay_max_between_sms = CASE WHEN $5 THEN $6 ELSE delay_max_between_sms END,
                send_window = COALESCE($4, send_window),
                send_hours = CASE WHEN $7 THEN $8::jsonb ELSE send_hours END,
                sim_quotas = CASE WHEN $9 THEN $10::jsonb ELSE sim_quotas END
          WHERE id = $1 AND user_id = $2 AND removed_at IS NULL
          RETURNING ${DEVICE_SETTINGS_COLUMNS})
       SELECT * FROM updated`,
      [
        deviceId,
        account.id,
        pace?.min ?? null,
        change.window ?? null,
        pace !== undefined,
        pace?.max ?? null,
        change.sendHours !== undefined,
        change.sendHours?.hours ? JSON.stringify(change.sendHours.hours) : null,
        change.simQuotas !== undefined,
        change.simQuotas?.quotas ? JSON.stringify(change.simQuotas.quotas) : null,
      ],
    );
    if (rows.length === 0) throw ApiError.notFound(`device ${deviceId} not found among your devices`);
    const settings = deviceSettingsFromRow(rows[0], this.config.devices.defaultWindow);
    // Stored either way; a dispatcher that misses the signal applies the settings at the next connect.
    await this.signal
      .publish(deviceId, settings)
      .catch((error: Error) =>
        this.logger.warn({ err: error, deviceId }, 'settings stored; live update not announced'),
      );
    // Pool routing judges members by their hours and quotas: routers drop what they cached.
    if (change.sendHours !== undefined || change.simQuotas !== undefined)
      await this.poolChanged.publish({ deviceId });
    // Messages held back for the old hours or quotas are judged again under the new ones, also for a phone that is
    // offline now (its session does the same on the signal, for a message it held meanwhile).
    if (change.sendHours !== undefined || change.simQuotas !== undefined)
      await this.queues
        .releaseHeld(deviceId)
        .catch((error: Error) =>
          this.logger.warn({ err: error, deviceId }, 'settings stored; held messages wait for their time'),
        );
    return settings;
  }
}
