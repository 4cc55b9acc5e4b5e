import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceSettings, StatusReport } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import {
  DeviceLeases,
  DevicePresence,
  DeviceQueues,
  DeviceRevocationSignal,
  DeviceSettingsSignal,
  RedisConnections,
  WorkSignal,
} from '@smsfleet/queueing';
import { CallGate } from './call-gate';
import { DeviceIdentity } from './device-authenticator.service';
import { DeviceLeaseKeeper } from './device-lease-keeper';
import { DeviceSession, SessionContext } from './device-session';
import { StatusReportBatcher } from './status-report-batcher.service';

const PRESENCE_REFRESH_MS = 30_000;
/** Signs of life (phone events) are written to Redis together, this often: lastseen is a second-resolution field. */
const SEEN_FLUSH_MS = 1_000;
/** A phone whose lease cannot be taken this fast is asked to reconnect (perhaps to a healthier node). */
const LEASE_TAKE_TIMEOUT_MS = 2_000;

/**
 * How long a reconnected phone's new session waits for its old one to finish recording acks. Reclaiming
 * before that puts those jobs back in the queue (a resend, de-duplicated by the phone); waiting longer
 * than this for a Redis that does not answer would only delay the phone.
 */
const PREVIOUS_SESSION_CLOSE_WAIT_MS = 3_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The phones connected to this node, one session each. A session consumes its device's queue only while
 * it holds the device's lease: a newer connection of the phone, here or on another node, takes the lease
 * and the older session ends at once.
 */
@Injectable()
export class DeviceSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeviceSessions.name);
  private readonly sessions = new Map<number, DeviceSession>();
  private readonly context: SessionContext;
  private presenceTimer?: NodeJS.Timeout;
  private seenTimer?: NodeJS.Timeout;
  /** Devices that sent an event since the last flush of signs of life. */
  private readonly seenSinceFlush = new Set<number>();
  private readonly leaseKeeper: DeviceLeaseKeeper;
  /** Sessions of this node still closing (recording their last acks), by device. */
  private readonly closing = new Map<number, Promise<void>>();

  constructor(
    private readonly queues: DeviceQueues,
    private readonly redis: RedisConnections,
    private readonly signal: WorkSignal,
    private readonly settingsSignal: DeviceSettingsSignal,
    private readonly revocations: DeviceRevocationSignal,
    private readonly leases: DeviceLeases,
    private readonly presence: DevicePresence,
    reports: StatusReportBatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.context = {
      ackTimeoutMs: config.dispatcher.ackTimeoutMs,
      idlePollMs: config.dispatcher.idlePollMs,
      maxUnackedSends: config.dispatcher.maxUnackedSends,
      report: (deviceId: number, list: StatusReport[]) => reports.submit(deviceId, list),
      reclaim: (deviceId: number) => queues.reclaimActive(deviceId),
      queueCalls: new CallGate(config.dispatcher.queueCallsInFlight),
      metrics,
      log: {
        warn: (object, message) => this.logger.warn(object, message),
        debug: (object, message) => this.logger.debug(object, message),
      },
    };
    this.leaseKeeper = new DeviceLeaseKeeper(leases, () => [...this.sessions.values()], {
      lost: async (deviceIds) => {
        for (const deviceId of deviceIds) await this.yieldUnlessOwner(deviceId);
      },
      cutOff: () => this.releaseAll(),
    });
  }

  async onModuleInit(): Promise<void> {
    this.leases.open();
    const subscriber = this.redis.subscriberConnection();
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.signal.channel) {
        for (const { deviceId, urgent } of WorkSignal.parse(message))
          this.sessions.get(deviceId)?.wake(urgent);
      } else if (channel === this.settingsSignal.channel) {
        const change = DeviceSettingsSignal.parse(message);
        if (change) this.applySettings(change.deviceId, change.settings);
      } else if (channel === this.revocations.channel) {
        // Secret rotated or device removed: the disconnect ends the session as any other would.
        const revoked = DeviceRevocationSignal.parse(message);
        if (revoked) this.sessions.get(revoked.deviceId)?.socket.disconnect(true);
      } else if (channel === this.leases.channel) {
        const taken = DeviceLeases.parse(message);
        if (taken) void this.yieldUnlessOwner(taken.deviceId);
      }
    });
    await subscriber.subscribe(
      this.signal.channel,
      this.settingsSignal.channel,
      this.revocations.channel,
      this.leases.channel,
    );
    // Presence records expire unless refreshed: a node that dies takes its phones offline with it.
    this.presenceTimer = setInterval(() => void this.refreshPresence(), PRESENCE_REFRESH_MS);
    this.seenTimer = setInterval(() => void this.flushSeen(), SEEN_FLUSH_MS);
    this.leaseKeeper.start();
  }

  private applySettings(deviceId: number, settings: DeviceSettings): void {
    const session = this.sessions.get(deviceId);
    if (!session) return;
    this.logger.log({ deviceId, settings }, 'device settings changed');
    session.updateSettings(settings);
  }

  private async refreshPresence(): Promise<void> {
    await this.presence
      .markOnline([...this.sessions.keys()], this.config.dispatcher.nodeId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'presence not refreshed'));
  }

  /** Only phones still connected here: one that left since its event must not read as online again. */
  private async flushSeen(): Promise<void> {
    const deviceIds = [...this.seenSinceFlush].filter((deviceId) => this.sessions.has(deviceId));
    this.seenSinceFlush.clear();
    await this.presence
      .markOnline(deviceIds, this.config.dispatcher.nodeId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'lastseen not refreshed'));
  }

  /** Cut off from Redis: we cannot fetch, and soon other nodes may own our phones. Let them go. */
  private releaseAll(): void {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    // They reconnect (behind the load balancer) to a node that can serve them.
    for (const session of all) this.endSession(session);
  }

  /** Another connection owns the device now: end ours (handing its unacknowledged messages back). */
  private async yieldUnlessOwner(deviceId: number): Promise<void> {
    const session = this.sessions.get(deviceId);
    if (!session) return;
    // The key decides, not the announcement: an older announcement may arrive after our own take.
    const owner = await this.leases.owner(deviceId).catch(() => session.token);
    if (owner === session.token || this.sessions.get(deviceId) !== session) return;
    this.sessions.delete(deviceId);
    this.logger.log({ deviceId }, 'phone is served by a newer connection; ending this session');
    this.endSession(session);
  }

  /**
   * Disconnects first (that never waits for Redis), then hands the in-flight messages back in the
   * background; if Redis is away, their locks expire or the next owner reclaims them.
   */
  private endSession(session: DeviceSession): void {
    this.countOnline();
    session.socket.disconnect(true);
    void this.closeSession(session).catch((error: Error) =>
      this.logger.warn({ err: error, deviceId: session.deviceId }, 'session not closed'),
    );
  }

  private closeSession(session: DeviceSession): Promise<void> {
    const closing: Promise<void> = session.close().finally(() => {
      if (this.closing.get(session.deviceId) === closing) this.closing.delete(session.deviceId);
    });
    this.closing.set(session.deviceId, closing);
    return closing;
  }

  /** A sign of life from the phone (an event): online and seen now, written with the others within a second. */
  seen(deviceId: number): void {
    this.seenSinceFlush.add(deviceId);
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Current settings of a connected phone's session (they may have changed since the handshake). */
  settingsOf(deviceId: number): DeviceSettings | undefined {
    return this.sessions.get(deviceId)?.currentSettings;
  }

  /**
   * Whether a phone can be taken on now. A restarted node whose Redis connection is still coming up must
   * refuse phones in the handshake ("unavailable": retry) rather than accept them and then end the session
   * for want of a lease, which a phone following the protocol reads as "a newer session took over" and
   * does not reconnect (the 13:50 soak: 990 phones turned away that way after a dispatcher kill).
   */
  get accepting(): boolean {
    return this.leases.ready;
  }

  async open(socket: Socket, identity: DeviceIdentity): Promise<void> {
    const previous = this.sessions.get(identity.deviceId);
    if (previous) {
      this.sessions.delete(identity.deviceId);
      this.logger.log({ deviceId: identity.deviceId }, 'phone connected again; ending its older session');
      previous.socket.disconnect(true);
      void this.closeSession(previous).catch((error: Error) =>
        this.logger.warn({ err: error, deviceId: identity.deviceId }, 'older session not closed'),
      );
    }
    // The phone's last session may still be recording acks: reclaiming its jobs now would resend them.
    const closing = this.closing.get(identity.deviceId);
    if (closing) await Promise.race([closing.catch(() => undefined), sleep(PREVIOUS_SESSION_CLOSE_WAIT_MS)]);
    if (!socket.connected) return;
    const session = new DeviceSession(
      identity.deviceId,
      socket,
      this.queues.createManualWorker(identity.deviceId),
      identity.settings,
      this.context,
      this.config.dispatcher.nodeId,
    );
    this.sessions.set(identity.deviceId, session);
    try {
      await Promise.race([
        this.leases.take(identity.deviceId, session.token),
        sleep(LEASE_TAKE_TIMEOUT_MS).then(() => {
          throw new Error(`no answer from Redis within ${LEASE_TAKE_TIMEOUT_MS} ms`);
        }),
      ]);
    } catch (error) {
      this.logger.warn(
        { err: error, deviceId: identity.deviceId },
        'lease not taken; phone asked to reconnect',
      );
      this.sessions.delete(identity.deviceId);
      this.endSession(session);
      return;
    }
    this.countOnline();
    await session.start();
    await this.presence
      .markOnline([identity.deviceId], this.config.dispatcher.nodeId)
      .catch((error: Error) =>
        this.logger.warn({ err: error, deviceId: identity.deviceId }, 'presence not recorded'),
      );
  }

  async close(socket: Socket, deviceId: number): Promise<void> {
    const session = this.sessions.get(deviceId);
    if (!session || session.socket !== socket) return;
    this.sessions.delete(deviceId);
    this.countOnline();
    await this.closeSession(session);
    await Promise.all([
      this.leases
        .release(deviceId, session.token)
        .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'lease not released')),
      this.presence
        .markOffline(deviceId, this.config.dispatcher.nodeId)
        .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'presence not cleared')),
    ]);
  }

  private countOnline(): void {
    this.metrics.phonesOnline.set({ node: this.config.dispatcher.nodeId }, this.sessions.size);
  }

  /** SIGTERM: stop fetching, hand every unacknowledged message back, release the leases. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.presenceTimer);
    clearInterval(this.seenTimer);
    this.leaseKeeper.stop();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.countOnline();
    await Promise.all(
      all.map(async (session) => {
        await session.close();
        await this.leases.release(session.deviceId, session.token).catch(() => undefined);
        session.socket.disconnect(true);
      }),
    );
  }
}
