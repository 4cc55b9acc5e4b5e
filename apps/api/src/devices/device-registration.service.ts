import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account, newSecret, sha256Hex } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { SimInfo } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';

export interface DeviceDetails {
  title: string;
  imei?: string;
  serialNumber?: string;
  appVersion?: string;
  simInfo: SimInfo[];
}

export interface RegisteredDevice {
  deviceId: number;
  /** Shown once; only its SHA-256 is stored. */
  secret: string;
}

@Injectable()
export class DeviceRegistrationService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A new device, within the account's cap (DEVICES_MAX_PER_ACCOUNT; removed devices do not count). The
   * account's row is locked while counting, so concurrent registrations cannot pass the cap together.
   */
  async register(account: Account, details: DeviceDetails): Promise<RegisteredDevice> {
    const secret = newSecret();
    const cap = this.config.devices.maxPerAccount;
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [account.id]);
      const [{ count }]: Array<{ count: number }> = await tx.query(
        `SELECT count(*)::int AS count FROM devices WHERE user_id = $1 AND removed_at IS NULL`,
        [account.id],
      );
      if (count >= cap)
        throw ApiError.validation(
          `the account has ${count} devices, the most allowed (${cap}); remove one (DELETE /v1/devices/:id) first`,
        );
      const [{ id }]: Array<{ id: number }> = await tx.query(
        `INSERT INTO devices (user_id, title, imei, serial_number, app_version, sim_info, secret_hash)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING id`,
        [
          account.id,
          details.title,
          details.imei ?? null,
          details.serialNumber ?? null,
          details.appVersion ?? null,
          JSON.stringify(details.simInfo),
          sha256Hex(secret),
        ],
      );
      return { deviceId: id, secret };
    });
  }
}
