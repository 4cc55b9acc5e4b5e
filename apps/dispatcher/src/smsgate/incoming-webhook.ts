import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IncomingSmsService, InvalidIncoming } from '../incoming-sms.service';
import { ourNumericId, parseSmsReceived } from './app-input';
import { MobileError } from './mobile-errors';

/** A signature older or newer than this is refused (a replayed request); the app signs each attempt anew. */
export const WEBHOOK_MAX_AGE_SECONDS = 300;

/**
 * `X-Signature` as the app computes it (its `PayloadSingingPlugin`): hex HMAC-SHA256 of the body text
 * followed by the `X-Timestamp` text, keyed with the device's signing key.
 */
export function webhookSignature(signingKey: string, body: string, timestamp: string): string {
  return createHmac('sha256', signingKey)
    .update(body + timestamp, 'utf8')
    .digest('hex');
}

/**
 * Our receiver of the app's `sms:received` webhooks: checks the signature with the device's key and
 * stores the SMS as status 5 of the device's account, once however often the app retries (as an
 * `incoming` event: the same device, sender, text and time is one SMS).
 */
@Injectable()
export class IncomingWebhook {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly incoming: IncomingSmsService,
  ) {}

  async receive(
    rawBody: string | undefined,
    body: unknown,
    signature: string | undefined,
    timestamp: string | undefined,
    /** Runs once the signature proved the device, before the SMS is stored; may refuse by throwing. */
    admit: (deviceId: number) => void = () => undefined,
  ): Promise<{ deviceId: number; messageId: number }> {
    if (rawBody === undefined) throw new MobileError('validation', 'a JSON body is required');
    const sms = parseSmsReceived(body);
    const deviceId = ourNumericId(sms.deviceId);
    const rows: Array<{ webhook_signing_key: string | null }> =
      deviceId === undefined
        ? []
        : await this.db.query(
            `SELECT webhook_signing_key FROM devices WHERE id = $1 AND kind = 'smsgate' AND removed_at IS NULL`,
            [deviceId],
          );
    const key = rows[0]?.webhook_signing_key;
    if (!key || deviceId === undefined || !this.signed(key, rawBody, signature, timestamp))
      throw new MobileError('forbidden', 'bad or missing signature (X-Signature, X-Timestamp)');
    admit(deviceId);
    try {
      const messageId = await this.incoming.store(deviceId, {
        from: sms.sender,
        body: sms.message,
        sim: sms.simNumber !== null && sms.simNumber <= 2 ? sms.simNumber - 1 : 0,
        receivedAt: sms.receivedAt.toISOString(),
      });
      return { deviceId, messageId };
    } catch (error) {
      if (error instanceof InvalidIncoming) throw new MobileError('validation', error.message);
      throw error;
    }
  }

  private signed(key: string, rawBody: string, signature?: string, timestamp?: string): boolean {
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/i.test(signature))
      return false;
    if (Math.abs(Date.now() / 1_000 - Number(timestamp)) > WEBHOOK_MAX_AGE_SECONDS) return false;
    const expected = Buffer.from(webhookSignature(key, rawBody, timestamp), 'hex');
    return timingSafeEqual(expected, Buffer.from(signature.toLowerCase(), 'hex'));
  }
}
