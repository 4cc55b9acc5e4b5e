import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceRules, StatusReport } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { DeviceQueues, EmissionMark } from '@smsfleet/queueing';
import { DeviceIdentity } from '../device-authenticator';
import { SimQuotaGate } from '../limits/sim-quota-gate';
import { CallGate } from '../session/call-gate';
import { DeviceSession, SessionContext } from '../session/device-session';
import { SessionTransport } from '../session/session-transport';
import { StatusReportBatcher } from '../status-report-batcher';
import { SessionLeases } from './session-leases';
import { SessionPresence } from './session-presence';
import { DeviceSignalRouter } from './signal-router';

/**
 * How long a reconnected phone's new session waits for its old one to finish recording acks. Reclaiming
 * before that puts those jobs back in the queue (a resend, de-duplicated by the phone); waiting longer
 * than this for a Redis that does not answer would only delay the phone.
 */
const PREVIOUS_SESSION_CLOSE_WAIT_MS = 3_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The device sessions of this node, one per device, whatever their transport. A session consumes its
 * device's queue only while it holds the device's lease: a newer connection of the phone, here or on
 * another node, takes the lease and the older session ends at once.
 */
@Injectable()
export class SessionRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SessionRegistry.name);
  private readonly sessions = new Map<number, DeviceSession>();
  private readonly context: SessionContext;
  /** Sessions of this node still closing (recording their last acks), by device. */
  private readonly closing = new Map<number, Promise<void>>();
  /** Devices this node counts as connected without a session (e.g. a pulling phone's event stream). */
  private readonly otherConnections = new Set<() => Iterable<number>>();

  constructor(
    private readonly queues: DeviceQueues,
    private readonly signals: DeviceSignalRouter,
    private readonly leases: SessionLeases,
    private readonly presence: SessionPresence,
    reports: StatusReportBatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    quotas: SimQuotaGate,
    emissions: EmissionMark,
  ) {
    this.context = {
      ackTimeoutMs: config.dispatcher.ackTimeoutMs,
      idlePollMs: config.dispatcher.idlePollMs,
      maxUnackedSends: config.dispatcher.maxUnackedSends,
      report: (deviceId: number, list: StatusReport[]) => reports.submit(deviceId, list),
      reclaim: (deviceId: number) => queues.reclaimActive(deviceId),
      releaseHeld: (deviceId: number) => queues.releaseHeld(deviceId),
      markEmitted: (deviceId, messageId, data) => emissions.mark(deviceId, messageId, data),
      markEmittedMany: (deviceId, messageIds) => emissions.markMany(deviceId, messageIds),
      quotas,
      queueCalls: new CallGate(config.dispatcher.queueCallsInFlight),
      metrics,
      log: {
        warn: (object, message) => this.logger.warn(object, message),
        debug: (object, message) => this.logger.debug(object, message),
      },
    };
  }

  onModuleInit(): void {
    this.signals.listen({
      work: (deviceId, urgent) => this.sessions.get(deviceId)?.wake(urgent),
      settings: (deviceId, settings) => this.applySettings(deviceId, settings),
      leaseTaken: (deviceId) => void this.yieldUnlessOwner(deviceId),
      revoked: (deviceId, reason) => void this.endRevoked(deviceId, reason),
    });
    this.presence.start(
      () => this.connectedDevices(),
      (deviceId) => this.isConnected(deviceId),
    );
    this.leases.start(() => [...this.sessions.values()], {
      lost: async (deviceIds) => {
        for (const deviceId of deviceIds) await this.yieldUnlessOwner(deviceId);
      },
      cutOff: () => this.releaseAll(),
    });
  }

  /** A transport that keeps phones connected without a session also counts them as online. */
  countConnections(devices: () => Iterable<number>): void {
    this.otherConnections.add(devices);
  }

  private connectedDevices(): Set<number> {
    const all = new Set(this.sessions.keys());
    for (const devices of this.otherConnections) for (const deviceId of devices()) all.add(deviceId);
    return all;
  }

  isConnected(deviceId: number): boolean {
    return this.sessions.has(deviceId) || this.connectedDevices().has(deviceId);
  }

  private applySettings(deviceId: number, settings: DeviceRules): void {
    const session = this.sessions.get(deviceId);
    if (!session) return;
    this.logger.log({ deviceId, settings }, 'device settings changed');
    session.updateSettings(settings);
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
    if ((await this.leases.heldBy(deviceId, session.token)) || this.sessions.get(deviceId) !== session)
      return;
    this.sessions.delete(deviceId);
    this.logger.log({ deviceId }, 'phone is served by a newer connection; ending this session');
    this.endSession(session);
  }

  /**
   * The device's secret was rotated or the device removed: its phone is cut off now, whatever its
   * transport (a socket is disconnected, a pulling phone's session ends), and what it held goes back.
   */
  private async endRevoked(deviceId: number, reason: string): Promise<void> {
    const session = this.sessions.get(deviceId);
    if (!session) return;
    this.logger.log({ deviceId, reason }, 'device access revoked; ending its session');
    session.transport.disconnect();
    await this.close(session.transport, deviceId).catch((error: Error) =>
      this.logger.warn({ err: error, deviceId }, 'session of a revoked device not closed'),
    );
  }

  /**
   * Disconnects first (that never waits for Redis), then hands the in-flight messages back in the
   * background; if Redis is away, their locks expire or the next owner reclaims them.
   */
  private endSession(session: DeviceSession): void {
    this.countOnline();
    session.transport.disconnect();
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

  /** A connection without a session ended (an event stream): offline unless the phone is still here. */
  async leftIfGone(deviceId: number): Promise<void> {
    if (!this.isConnected(deviceId)) await this.presence.offline(deviceId);
  }

  /** A sign of life from the phone (an event): online and seen now, written with the others within a second. */
  seen(deviceId: number): void {
    this.presence.seen(deviceId);
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Devices with a session on this node. */
  deviceIds(): number[] {
    return [...this.sessions.keys()];
  }

  /** The device's session on this node, if it has one. */
  sessionOf(deviceId: number): DeviceSession | undefined {
    return this.sessions.get(deviceId);
  }

  /** Current settings of a connected phone's session (they may have changed since the handshake). */
  settingsOf(deviceId: number): DeviceRules | undefined {
    return this.sessions.get(deviceId)?.currentSettings;
  }

  /** Whether a phone can be taken on now (see SessionLeases.ready). */
  get accepting(): boolean {
    return this.leases.ready;
  }

  /**
   * Opens the phone's session over `transport`, ending an older one of the same phone on this node; the
   * session runs once it holds the device's lease. Answers the session, or undefined when it could not
   * start (the transport is then disconnected: the phone retries).
   */
  async open(
    transport: SessionTransport,
    identity: DeviceIdentity,
    stillWanted: () => boolean = () => true,
  ): Promise<DeviceSession | undefined> {
    const previous = this.sessions.get(identity.deviceId);
    if (previous) {
      this.sessions.delete(identity.deviceId);
      this.logger.log({ deviceId: identity.deviceId }, 'phone connected again; ending its older session');
      previous.transport.disconnect();
      void this.closeSession(previous).catch((error: Error) =>
        this.logger.warn({ err: error, deviceId: identity.deviceId }, 'older session not closed'),
      );
    }
    // The phone's last session may still be recording acks: reclaiming its jobs now would resend them.
    const closing = this.closing.get(identity.deviceId);
    if (closing) await Promise.race([closing.catch(() => undefined), sleep(PREVIOUS_SESSION_CLOSE_WAIT_MS)]);
    if (!stillWanted()) return undefined;
    const session = new DeviceSession(
      identity.deviceId,
      transport,
      this.queues.createManualWorker(identity.deviceId),
      identity.settings,
      this.context,
      this.config.dispatcher.nodeId,
    );
    this.sessions.set(identity.deviceId, session);
    try {
      await this.leases.take(identity.deviceId, session.token);
    } catch (error) {
      this.logger.warn(
        { err: error, deviceId: identity.deviceId },
        'lease not taken; phone asked to reconnect',
      );
      if (this.sessions.get(identity.deviceId) === session) this.sessions.delete(identity.deviceId);
      this.endSession(session);
      return undefined;
    }
    this.countOnline();
    await session.start();
    await this.presence.online(identity.deviceId);
    return session;
  }

  /** The phone left (its transport closed): hands back what it had not acknowledged, releases its lease. */
  async close(transport: SessionTransport, deviceId: number): Promise<void> {
    const session = this.sessions.get(deviceId);
    if (!session || session.transport !== transport) return;
    this.sessions.delete(deviceId);
    this.countOnline();
    await this.closeSession(session);
    await Promise.all([
      this.leases
        .release(deviceId, session.token)
        .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'lease not released')),
      this.isConnected(deviceId) ? undefined : this.presence.offline(deviceId),
    ]);
  }

  private countOnline(): void {
    this.metrics.phonesOnline.set({ node: this.config.dispatcher.nodeId }, this.sessions.size);
  }

  /** SIGTERM: stop fetching, hand every unacknowledged message back, release the leases. */
  async onApplicationShutdown(): Promise<void> {
    this.presence.onApplicationShutdown();
    this.leases.onApplicationShutdown();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.countOnline();
    await Promise.all(
      all.map(async (session) => {
        await session.close();
        await this.leases.release(session.deviceId, session.token).catch(() => undefined);
        session.transport.disconnect();
      }),
    );
  }
}
