import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { StatusReport } from '@smsfleet/contracts';
import { DeviceQueues, RedisConnections, StatusQueueProducer, WorkSignal } from '@smsfleet/queueing';
import { DeviceIdentity } from './device-authenticator.service';
import { DeviceSession, SessionContext } from './device-session';

/** The phones connected to this node, one session each (a newer connection of a phone replaces the older). */
@Injectable()
export class DeviceSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeviceSessions.name);
  private readonly sessions = new Map<number, DeviceSession>();
  private readonly context: SessionContext;

  constructor(
    private readonly queues: DeviceQueues,
    private readonly redis: RedisConnections,
    private readonly signal: WorkSignal,
    statusQueue: StatusQueueProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.context = {
      ackTimeoutMs: config.dispatcher.ackTimeoutMs,
      idlePollMs: config.dispatcher.idlePollMs,
      report: (deviceId: number, reports: StatusReport[]) => statusQueue.add({ deviceId, reports }),
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
    session.start();
  }

  async close(socket: Socket, deviceId: number): Promise<void> {
    const session = this.sessions.get(deviceId);
    if (!session || session.socket !== socket) return;
    this.sessions.delete(deviceId);
    await session.close();
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((session) => session.close()));
  }
}
