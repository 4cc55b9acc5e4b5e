import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { newSecret, newSigningKey, sha256Hex, TtlCache } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { SEND_SLOTS_OF_KIND, SimInfo } from '@smsfleet/contracts';
import { DEVICE_SETTINGS_COLUMNS, DeviceSettingsRow, deviceSettingsFromRow } from '@smsfleet/persistence';
import { toStorableText } from '@smsfleet/validation';
import { DeviceIdentity } from '../device-authenticator';
import { DeviceSignalRouter } from '../sessions/signal-router';
import { AppDevicePatch, AppDeviceRegistration, AppSimCard } from './app-protocol';
import { MobileError } from './mobile-errors';

/** An SMSGate device as its bearer token names it. */
export interface SmsGateDevice extends DeviceIdentity {
  email: string;
  signingKey: string;
}

/** Found tokens are remembered this long: one query less per request of a busy phone. */
const TOKEN_CACHE_MS = 5_000;
const BEARER = /^Bearer ([\x21-\x7e]{1,200})$/;

/** What the app's registration answers (`DeviceRegisterResponse`). */
export interface AppRegistrationAnswer {
  id: string;
  token: string;
  login: string;
}

function simInfoOf(cards: AppSimCard[]): SimInfo[] {
  return cards.map((card) => ({
    Slot: card.slotIndex,
    ...(card.phoneNumber ? { Number: toStorableText(card.phoneNumber) } : {}),
    ...(card.carrierName ? { CarrierName: toStorableText(card.carrierName) } : {}),
    ...(card.iccid ? { IccId: toStorableText(card.iccid) } : {}),
  }));
}

/** The app's version, from its `User-Agent: me.capcom.smsgateway/<version>`. */
export function appVersionOf(userAgent: string | undefined): string | null {
  const match = /^me\.capcom\.smsgateway\/([\w.+-]{1,40})/.exec(userAgent ?? '');
  return match ? `smsgate-${match[1]}` : null;
}

/** Bearer token of an `Authorization` header, if it has one. */
export function bearerOf(authorization: string | undefined): string | undefined {
  return BEARER.exec(authorization ?? '')?.[1];
}

/**
 * SMSGate devices: registered with an account's registration token, then known by a random token of
 * their own, of which only the SHA-256 is stored. A removed device's token is refused; one whose token
 * was rotated waits for the account's next registration, which takes it over (same id, same queue).
 */
@Injectable()
export class SmsGateDevices implements OnModuleInit {
  private readonly byToken = new TtlCache<string, SmsGateDevice>(TOKEN_CACHE_MS, 50_000);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signals: DeviceSignalRouter,
  ) {}

  onModuleInit(): void {
    // A revoked token is refused from the next request on, not once the cache forgets it.
    this.signals.listen(
      { revoked: (deviceId) => this.byToken.deleteWhere((device) => device.deviceId === deviceId) },
      true,
    );
  }

  /** The device of a bearer token; 401 only when the token is unknown (the app then registers again). */
  async authenticate(authorization: string | undefined): Promise<SmsGateDevice> {
    const token = bearerOf(authorization);
    if (!token) throw new MobileError('unauthorized', 'a device token is required (Authorization: Bearer …)');
    const hash = sha256Hex(token);
    const cached = this.byToken.get(hash);
    if (cached) return cached;
    const rows: Array<
      {
        id: number;
        user_id: number;
        email: string;
        webhook_signing_key: string | null;
      } & DeviceSettingsRow
    > = await this.db.query(
      `SELECT d.id, d.user_id, u.email, ${DEVICE_SETTINGS_COLUMNS}, d.webhook_signing_key
         FROM devices d JOIN users u ON u.id = d.user_id
        WHERE d.secret_hash = $1 AND d.kind = 'smsgate' AND d.removed_at IS NULL`,
      [hash],
    );
    const row = rows[0];
    if (!row) throw new MobileError('unauthorized', 'unknown device token');
    const device: SmsGateDevice = {
      deviceId: row.id,
      userId: row.user_id,
      email: row.email,
      signingKey: row.webhook_signing_key ?? '',
      settings: deviceSettingsFromRow(row, this.config.devices.defaultWindow),
    };
    this.byToken.set(hash, device);
    return device;
  }

  /**
   * The device's pace and window now, for a session that opens: the token cache may hold them for a few
   * seconds, and a change published meanwhile reached no session. A request that was authenticated just
   * before its device was removed or its token rotated opens no session.
   */
  async currentSettings(device: SmsGateDevice): Promise<SmsGateDevice> {
    const rows: DeviceSettingsRow[] = await this.db.query(
      `SELECT ${DEVICE_SETTINGS_COLUMNS} FROM devices
        WHERE id = $1 AND removed_at IS NULL AND NOT awaiting_registration`,
      [device.deviceId],
    );
    if (!rows[0]) throw new MobileError('unauthorized', 'unknown device token');
    return {
      ...device,
      settings: deviceSettingsFromRow(rows[0], this.config.devices.defaultWindow),
    };
  }

  /**
   * A device of the account whose registration token this is: the account's device whose token was
   * rotated, taken over with a new token, else a new one within the account's cap
   * (DEVICES_MAX_PER_ACCOUNT; removed devices do not count). The account's row is locked meanwhile, so
   * concurrent registrations neither pass the cap together nor take over the same device.
   */
  async register(
    authorization: string | undefined,
    registration: AppDeviceRegistration,
    appVersion: string | null,
  ): Promise<AppRegistrationAnswer> {
    const registrationToken = bearerOf(authorization);
    if (!registrationToken)
      throw new MobileError(
        'unauthorized',
        "registration needs the account's phone registration token as the app's Private Token",
      );
    const accounts: Array<{ user_id: number; email: string }> = await this.db.query(
      `SELECT t.user_id, u.email FROM phone_registration_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1`,
      [sha256Hex(registrationToken)],
    );
    const account = accounts[0];
    if (!account) throw new MobileError('unauthorized', 'unknown registration token');
    const token = newSecret();
    const details = [
      toStorableText(registration.name),
      registration.pushToken,
      JSON.stringify(simInfoOf(registration.simCards)),
      appVersion,
    ];
    const cap = this.config.devices.maxPerAccount;
    const id = await this.db.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [account.user_id]);
      // A CTE, so that the driver answers the rows (a bare UPDATE answers [rows, count]).
      const taken: Array<{ id: number }> = await tx.query(
        `WITH taken AS (
           UPDATE devices SET secret_hash = $2, awaiting_registration = false, title = $3, push_token = $4,
                  sim_info = $5::jsonb, app_version = COALESCE($6, app_version), last_seen_at = now()
            WHERE id = (SELECT id FROM devices
                         WHERE user_id = $1 AND kind = 'smsgate' AND awaiting_registration AND removed_at IS NULL
                         ORDER BY id LIMIT 1)
            RETURNING id)
         SELECT id FROM taken`,
        [account.user_id, sha256Hex(token), ...details],
      );
      if (taken[0]) return taken[0].id;
      const [{ count }]: Array<{ count: number }> = await tx.query(
        `SELECT count(*)::int AS count FROM devices WHERE user_id = $1 AND removed_at IS NULL`,
        [account.user_id],
      );
      if (count >= cap)
        throw new MobileError(
          'device_limit',
          `the account has ${count} devices, the most allowed (${cap}); remove one (DELETE /v1/devices/:id) first`,
        );
      const [inserted]: Array<{ id: number }> = await tx.query(
        `INSERT INTO devices (user_id, secret_hash, title, push_token, sim_info, app_version, kind, send_slots, webhook_signing_key, last_seen_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, 'smsgate', $7::smallint[], $8, now())
         RETURNING id`,
        [account.user_id, sha256Hex(token), ...details, [...SEND_SLOTS_OF_KIND.smsgate], newSigningKey()],
      );
      return inserted.id;
    });
    return { id: String(id), token, login: account.email };
  }

  /** `PATCH /device` on every start of the app: its SIM cards and push token now. */
  async update(device: SmsGateDevice, patch: AppDevicePatch, appVersion: string | null): Promise<void> {
    if (patch.id !== String(device.deviceId))
      throw new MobileError('forbidden', 'id is not the device of this token');
    await this.db.query(
      `UPDATE devices SET push_token = $2,
              sim_info = COALESCE($3::jsonb, sim_info),
              app_version = COALESCE($4, app_version),
              last_seen_at = now()
        WHERE id = $1`,
      [
        device.deviceId,
        patch.pushToken,
        patch.simCards === null ? null : JSON.stringify(simInfoOf(patch.simCards)),
        appVersion,
      ],
    );
  }
}
