import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceSettings } from '@smsfleet/contracts';
import { DEVICE_SETTINGS_COLUMNS, DeviceSettingsRow, deviceSettingsFromRow } from '@smsfleet/persistence';
import { DeviceSettingsSignal } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { PaceInput } from './device-settings-input';

export interface DeviceSettingsChange {
  pace?: PaceInput;
  window?: number;
}

/**
 * Pace and window of a phone: stored in PostgreSQL, then announced to the dispatchers, whose session of
 * that phone applies them at once (and tells the phone) — no restart, no reconnect.
 */
@Injectable()
export class DeviceSettingsService {
  private readonly logger = new Logger(DeviceSettingsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly signal: DeviceSettingsSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async update(account: Account, deviceId: number, change: DeviceSettingsChange): Promise<DeviceSettings> {
    const { pace } = change;
    const rows: DeviceSettingsRow[] = await this.db.query(
      // A SELECT around the UPDATE: TypeORM answers a bare UPDATE with [rows, count]. A pace given sets
      // both ends: a single number clears an earlier range.
      `WITH updated AS (
         UPDATE devices
            SET delay_between_sms = CASE WHEN $5 THEN $3 ELSE delay_between_sms END,
                delay_max_between_sms = CASE WHEN $5 THEN $6 ELSE delay_max_between_sms END,
                send_window = COALESCE($4, send_window)
          WHERE id = $1 AND user_id = $2 AND removed_at IS NULL
          RETURNING ${DEVICE_SETTINGS_COLUMNS})
       SELECT * FROM updated`,
      [deviceId, account.id, pace?.min ?? null, change.window ?? null, pace !== undefined, pace?.max ?? null],
    );
    if (rows.length === 0) throw ApiError.notFound(`device ${deviceId} not found among your devices`);
    const settings: DeviceSettings = deviceSettingsFromRow(rows[0], this.config.devices.defaultWindow);
    // Stored either way; a dispatcher that misses the signal applies the settings at the next connect.
    await this.signal
      .publish(deviceId, settings)
      .catch((error: Error) =>
        this.logger.warn({ err: error, deviceId }, 'settings stored; live update not announced'),
      );
    return settings;
  }
}
