import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { newSecret, newSigningKey, sha256Hex } from '@smsfleet/auth';
import { DeviceRevoked } from '@smsfleet/contracts';
import { DeviceQueues } from './device-queues';
import { DeviceRevocationSignal } from './device-revocation-signal';
import { PoolChangedSignal } from './pools/pool-changed-signal';
import {
  expireWaitingOfDevice,
  leavePool,
  lockWaitingPoolMessagesOfDevice,
  messagesWithPendingReports,
} from '@smsfleet/persistence';
import { WaitingJobRemover } from './waiting-job-remover';

/** The reason of the messages a removal finalises (202: no phone will take them). */
export const DEVICE_REMOVED_ERROR = 'device removed before a phone took the message';

/** A device whose secret changed or which was removed; `account` undefined: any account's (operators). */
export interface DeviceRef {
  deviceId: number;
  account?: number;
}

/**
 * What rotating a device's secret gave: a socket phone's new secret (shown once), or, for a phone running
 * the SMSGate app (which takes no token by hand), that its token is revoked and the device awaits the
 * app's next registration with the account's registration token, which takes it over with a new token.
 */
export type RotatedSecret =
  { kind: 'socket'; secret: string } | { kind: 'smsgate'; awaitingRegistration: true };

/**
 * Revoking a phone's access (security review L5): a new secret (the old one fails the next handshake), or
 * removal (its row kept for the history, its secret replaced by one nobody knows, its waiting messages
 * finalised as 202 — but pool messages no phone was sent, which move to another member — and its queue
 * emptied). Either way a signal cuts the connected phone off at once.
 */
@Injectable()
export class DeviceRevocation {
  private readonly logger = new Logger(DeviceRevocation.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queues: DeviceQueues,
    private readonly signal: DeviceRevocationSignal,
    private readonly poolChanged: PoolChangedSignal,
    private readonly remover: WaitingJobRemover,
  ) {}

  /**
   * A new secret for the device, or undefined when there is no such device. An SMSGate device's secret is
   * its bearer token: it is replaced by one nobody knows, its webhook signing key too, and the device
   * awaits its app's next registration (docs/phones.md).
   */
  async rotateSecret(ref: DeviceRef): Promise<RotatedSecret | undefined> {
    const secret = newSecret();
    const rows: Array<{ user_id: number; kind: 'socket' | 'smsgate' }> = await this.db.query(
      `WITH changed AS (
         UPDATE devices SET secret_hash = $3,
                awaiting_registration = (kind = 'smsgate'),
                webhook_signing_key = CASE WHEN kind = 'smsgate' THEN $4 ELSE webhook_signing_key END
          WHERE id = $1 AND ($2::int IS NULL OR user_id = $2) AND removed_at IS NULL
          RETURNING user_id, kind)
       SELECT * FROM changed`,
      [ref.deviceId, ref.account ?? null, sha256Hex(secret), newSigningKey()],
    );
    if (rows.length === 0) return undefined;
    await this.announce({ deviceId: ref.deviceId, userId: rows[0].user_id, reason: 'secret-rotated' });
    return rows[0].kind === 'smsgate'
      ? { kind: 'smsgate', awaitingRegistration: true }
      : { kind: 'socket', secret };
  }

  /** Removes the device; answers how many waiting messages it finalised, or undefined when there is none. */
  async remove(ref: DeviceRef): Promise<number | undefined> {
    const outcome = await this.db.transaction(async (tx) => {
      const removed: Array<{ user_id: number }> = await tx.query(
        `WITH removed AS (
           UPDATE devices SET removed_at = now(), secret_hash = $3, awaiting_registration = false
            WHERE id = $1 AND ($2::int IS NULL OR user_id = $2) AND removed_at IS NULL
            RETURNING user_id)
         SELECT * FROM removed`,
        [ref.deviceId, ref.account ?? null, sha256Hex(newSecret())],
      );
      if (removed.length === 0) return undefined;
      const movable = await this.takeMovablePoolJobs(tx, ref.deviceId);
      const finalised = await expireWaitingOfDevice(tx, ref.deviceId, DEVICE_REMOVED_ERROR, movable);
      // A removed phone takes nothing more: it leaves its pool with the removal (ADR 2221).
      await leavePool(tx, ref.deviceId);
      return { userId: removed[0].user_id, finalised };
    });
    if (outcome === undefined) return undefined;
    await this.announce({ deviceId: ref.deviceId, userId: outcome.userId, reason: 'removed' });
    await this.poolChanged.publish({ deviceId: ref.deviceId });
    // The phone is gone: nothing in its queue will be taken (the sweeps would only find final messages).
    await this.queues
      .queue(ref.deviceId)
      .obliterate({ force: true })
      .catch((error: Error) =>
        this.logger.warn({ err: error, deviceId: ref.deviceId }, 'queue of a removed device not emptied'),
      );
    return outcome.finalised;
  }

  /**
   * The device's pool messages that no phone was sent: their jobs are taken out of its queue by the move
   * script (atomic against the dispatcher's fetch, `pool-moving` recorded), and the rows stay waiting for
   * the pool mover, which sees a device no longer in the pool ("left") and moves them to a member (ADR 2221
   * §4); if it cannot before the record is stale, its recovery hands them to the outbox sweep, which routes
   * them. A job a phone was sent (`em`), active or with a report on its way is the phone's: finalised as
   * the rest. Answers the ids left to move.
   */
  private async takeMovablePoolJobs(tx: EntityManager, deviceId: number): Promise<number[]> {
    const waiting = await lockWaitingPoolMessagesOfDevice(tx, deviceId);
    if (waiting.length === 0) return [];
    const reported = await messagesWithPendingReports(tx, waiting);
    const candidates = waiting.filter((id) => !reported.has(id));
    const answers = await Promise.all(candidates.map((id) => this.remover.removeToMove(deviceId, id)));
    return candidates.filter((_, index) => answers[index] !== 'held');
  }

  /** Stored either way; a dispatcher that misses the signal refuses the phone at its next handshake. */
  private async announce(revoked: DeviceRevoked): Promise<void> {
    this.logger.log(revoked, 'device access revoked');
    await this.signal
      .publish(revoked)
      .catch((error: Error) =>
        this.logger.warn({ err: error, deviceId: revoked.deviceId }, 'revocation stored; not announced'),
      );
  }
}
