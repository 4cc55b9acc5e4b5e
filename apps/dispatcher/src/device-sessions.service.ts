import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { StatusReport } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import {
  DevicePresence,
  DeviceQueues,
  RedisConnections,
  StatusQueueProducer,
  WorkSignal,
} from '@smsfleet/queueing';
import { DeviceIdentity } from './device-authenticator.service';
import { DeviceSession, SessionContext } from './device-session';

const PRESENCE_REFRESH_MS = 30_000;

/** The phones connected to this node, one session each (a newer connection of a phone replaces the older). */
@Injectable()
export class DeviceSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeviceSessions.name);
  private readonly sessions = new Map<number, DeviceSession>();
  private readonly context: SessionContext;
  private presenceTimer?: NodeJS.Timeout;

  constructor(
    private readonly queues: DeviceQueues,
    private readonly redis: RedisConnections,
    private readonly signal: WorkSignal,
    private readonly presence: DevicePresence,
    statusQueue: StatusQueueProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.context = {
      ackTimeoutMs: config.dispatcher.ackTimeoutMs,
      idlePollMs: config.dispatcher.idlePollMs,
      report: (deviceId: number, reports: StatusReport[]) => statusQueue.add({ deviceId, reports }),
      metrics,
      log: {
        warn: (object, message) => this.logger.warn(object, message),
        debug: (object, message) => this.logger.debug(object, message),
      },
    };
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.subscriberConnection();
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.signal.channel) return;
      for (const deviceId of WorkSignal.parse(message)) this.sessions.get(deviceId)?.wake();
    });
    await subscriber.subscribe(this.signal.channel);
    // Presence records expire unless refreshed: a node that dies takes its phones offline with it.
    this.presenceTimer = setInterval(() => void this.refreshPresence(), PRESENCE_REFRESH_MS);
  }

  private async refreshPresence(): Promise<void> {
    const nodeId = this.config.dispatcher.nodeId;
    await Promise.all(
      [...this.sessions.keys()].map((deviceId) =>
        this.presence
          .markOnline(deviceId, nodeId)
          .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'presence not refreshed')),
      ),
    );
  }

  /** A sign of life from the phone (an event): it is online and seen now. */
  async seen(deviceId: number): Promise<void> {
    await this.presence.markOnline(deviceId, this.config.dispatcher.nodeId);
  }

  get count(): number {
    return this.sessions.size;
  }

  async open(socket: Socket, identity: DeviceIdentity): Promise<void> {
    const previous = this.sessions.get(identity.deviceId);
    if (previous) {
      this.sessions.delete(identity.deviceId);
      this.logger.log({ deviceId: identity.deviceId }, 'phone connected again; ending its older session');
      previous.socket.disconnect(true);
      await previous.close();
    }
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
    this.countOnline();
    session.start();
    await this.presence
      .markOnline(identity.deviceId, this.config.dispatcher.nodeId)
      .catch((error: Error) =>
        this.logger.warn({ err: error, deviceId: identity.deviceId }, 'presence not recorded'),
      );
  }

  async close(socket: Socket, deviceId: number): Promise<void> {
    const session = this.sessions.get(deviceId);
    if (!session || session.socket !== socket) return;
    this.sessions.delete(deviceId);
    this.countOnline();
    await session.close();
    await this.presence
      .markOffline(deviceId, this.config.dispatcher.nodeId)
      .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'presence not cleared'));
  }

  private countOnline(): void {
    this.metrics.phonesOnline.set({ node: this.config.dispatcher.nodeId }, this.sessions.size);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.presenceTimer);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.countOnline();
    await Promise.all(all.map((session) => session.close()));
  }
}
