import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceSettings } from '@smsfleet/contracts';
import { DeviceSettingsSignal } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';

export interface DeviceSettingsChange {
  delaybetweeneachsms?: number;
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
    const rows: Array<{ delay_between_sms: number; send_window: number | null }> = await this.db.query(
      // A SELECT around the UPDATE: TypeORM answers a bare UPDATE with [rows, count].
      `WITH updated AS (
         UPDATE devices SET delay_between_sms = COALESCE($3, delay_between_sms), send_window = COALESCE($4, send_window)
          WHERE id = $1 AND user_id = $2 AND removed_at IS NULL
          RETURNING delay_between_sms, send_window)
       SELECT * FROM updated`,
      [deviceId, account.id, change.delaybetweeneachsms ?? null, change.window ?? null],
    );
    if (rows.length === 0) throw ApiError.notFound(`device ${deviceId} not found among your devices`);
    const settings: DeviceSettings = {
      delaybetweeneachsms: rows[0].delay_between_sms,
      window: rows[0].send_window ?? this.config.devices.defaultWindow,
    };
    // Stored either way; a dispatcher that misses the signal applies the settings at the next connect.
    await this.signal
      .publish(deviceId, settings)
      .catch((error: Error) =>
        this.logger.warn({ err: error, deviceId }, 'settings stored; live update not announced'),
      );
    return settings;
  }
}
