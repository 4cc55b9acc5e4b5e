import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { secretMatches } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DEVICE_PROTOCOL_VERSION, DeviceConnectError, DeviceRules } from '@smsfleet/contracts';
import { DEVICE_SETTINGS_COLUMNS, DeviceSettingsRow, deviceSettingsFromRow } from '@smsfleet/persistence';

/** A phone that proved who it is in the handshake. */
export interface DeviceIdentity {
  deviceId: number;
  userId: number;
  settings: DeviceRules;
}

export class DeviceRejected extends Error {}

/** The device id a handshake names, if it names a valid one: what its limits are counted by. */
export function claimedDeviceId(auth: unknown): number | undefined {
  const { deviceId } = (auth ?? {}) as Record<string, unknown>;
  const id = typeof deviceId === 'string' && /^\d+$/.test(deviceId) ? Number(deviceId) : deviceId;
  return typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= 2_147_483_647 ? id : undefined;
}

/** Checks a phone's handshake (`auth: { deviceId, secret, protocol }`) against the stored secret hash. */
@Injectable()
export class DeviceAuthenticator {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async authenticate(auth: unknown): Promise<DeviceIdentity> {
    const { secret, protocol } = (auth ?? {}) as Record<string, unknown>;
    if (
      protocol !== undefined &&
      protocol !== DEVICE_PROTOCOL_VERSION &&
      protocol !== String(DEVICE_PROTOCOL_VERSION)
    ) {
      throw new DeviceRejected(DeviceConnectError.unsupportedProtocol);
    }
    const id = claimedDeviceId(auth);
    if (id === undefined) throw new DeviceRejected(DeviceConnectError.unauthorized);
    if (typeof secret !== 'string' || secret.length === 0 || secret.length > 200) {
      throw new DeviceRejected(DeviceConnectError.unauthorized);
    }
    const rows: Array<DeviceSettingsRow & { user_id: number; secret_hash: string }> = await this.db.query(
      `SELECT user_id, secret_hash, ${DEVICE_SETTINGS_COLUMNS} FROM devices WHERE id = $1 AND removed_at IS NULL`,
      [id],
    );
    const device = rows[0];
    if (!device || !secretMatches(secret, device.secret_hash))
      throw new DeviceRejected(DeviceConnectError.unauthorized);
    return {
      deviceId: id,
      userId: device.user_id,
      settings: deviceSettingsFromRow(device, this.config.devices.defaultWindow),
    };
  }
}
