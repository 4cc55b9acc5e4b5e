import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { newSecret, sha256Hex, TtlCache } from '@smsfleet/auth';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { SEND_SLOTS_OF_KIND, SimInfo } from '@smsfleet/contracts';
import { toStorableText } from '@smsfleet/validation';
import { DeviceIdentity } from '../device-authenticator.service';
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
 * their own, of which only the SHA-256 is stored.
 */
@Injectable()
export class SmsGateDevices {
  private readonly byToken = new TtlCache<string, SmsGateDevice>(TOKEN_CACHE_MS, 50_000);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The device of a bearer token; 401 only when the token is unknown (the app then registers again). */
  async authenticate(authorization: string | undefined): Promise<SmsGateDevice> {
    const token = bearerOf(authorization);
    if (!token) throw new MobileError('unauthorized', 'a device token is required (Authorization: Bearer …)');
    const hash = sha256Hex(token);
    const cached = this.byToken.get(hash);
    if (cached) return cached;
    const rows: Array<{
      id: number;
      user_id: number;
      email: string;
      delay_between_sms: number;
      send_window: number | null;
      webhook_signing_key: string | null;
    }> = await this.db.query(
      `SELECT d.id, d.user_id, u.email, d.delay_between_sms, d.send_window, d.webhook_signing_key
         FROM devices d JOIN users u ON u.id = d.user_id
        WHERE d.secret_hash = $1 AND d.kind = 'smsgate'`,
      [hash],
    );
    const row = rows[0];
    if (!row) throw new MobileError('unauthorized', 'unknown device token');
    const device: SmsGateDevice = {
      deviceId: row.id,
      userId: row.user_id,
      email: row.email,
      signingKey: row.webhook_signing_key ?? '',
      settings: {
        delaybetweeneachsms: row.delay_between_sms,
        window: row.send_window ?? this.config.devices.defaultWindow,
      },
    };
    this.byToken.set(hash, device);
    return device;
  }

  /**
   * The device's pace and window now, for a session that opens: the token cache may hold them for a few
   * seconds, and a change published meanwhile reached no session.
   */
  async currentSettings(device: SmsGateDevice): Promise<SmsGateDevice> {
    const rows: Array<{ delay_between_sms: number; send_window: number | null }> = await this.db.query(
      `SELECT delay_between_sms, send_window FROM devices WHERE id = $1`,
      [device.deviceId],
    );
    if (!rows[0]) throw new MobileError('unauthorized', 'unknown device token');
    return {
      ...device,
      settings: {
        delaybetweeneachsms: rows[0].delay_between_sms,
        window: rows[0].send_window ?? this.config.devices.defaultWindow,
      },
    };
  }

  /** A new device of the account whose registration token this is. */
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
    const token = newSecret();
    const rows: Array<{ id: number; email: string }> = await this.db.query(
      `INSERT INTO devices (user_id, title, secret_hash, kind, send_slots, push_token, sim_info, app_version, webhook_signing_key, last_seen_at)
       SELECT t.user_id, $2, $3, 'smsgate', $4::smallint[], $5, $6::jsonb, $7, $8, now()
         FROM phone_registration_tokens t WHERE t.token_hash = $1
       RETURNING id, (SELECT email FROM users WHERE id = devices.user_id) AS email`,
      [
        sha256Hex(registrationToken),
        toStorableText(registration.name),
        sha256Hex(token),
        [...SEND_SLOTS_OF_KIND.smsgate],
        registration.pushToken,
        JSON.stringify(simInfoOf(registration.simCards)),
        appVersion,
        randomBytes(24).toString('base64url'),
      ],
    );
    if (!rows[0]) throw new MobileError('unauthorized', 'unknown registration token');
    return { id: String(rows[0].id), token, login: rows[0].email };
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
