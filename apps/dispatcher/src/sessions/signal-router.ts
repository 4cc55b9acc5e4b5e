import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { deviceAcksChannel, DeviceAcks, DeviceRevoked, DeviceRules } from '@smsfleet/contracts';
import {
  DeviceLeases,
  DeviceRevocationSignal,
  DeviceSettingsSignal,
  RedisConnections,
  WorkSignal,
} from '@smsfleet/queueing';

/** What the node hears about its devices from other processes. */
export interface DeviceSignalListener {
  /** The device has new work (`urgent`: an urgent message is due now). */
  work?(deviceId: number, urgent: boolean): void;
  settings?(deviceId: number, settings: DeviceRules): void;
  /** A connection, here or on another node, took the device's lease. */
  leaseTaken?(deviceId: number): void;
  /** A pulling phone reported states of these messages to another node. */
  acks?(deviceId: number, messageIds: number[]): void;
  /** The device's secret (token) was rotated or the device removed: its phone must be cut off. */
  revoked?(deviceId: number, reason: DeviceRevoked['reason']): void;
}

/**
 * One subscriber connection per node for the device channels (work signal, settings, leases, acks,
 * revocations),
 * routed to whoever listens here: the session registry, and the transports that wake phones themselves.
 */
@Injectable()
export class DeviceSignalRouter implements OnModuleInit {
  private readonly listeners: DeviceSignalListener[] = [];
  readonly acksChannel: string;

  constructor(
    private readonly redis: RedisConnections,
    private readonly signal: WorkSignal,
    private readonly settingsSignal: DeviceSettingsSignal,
    private readonly leases: DeviceLeases,
    private readonly revocations: DeviceRevocationSignal,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.acksChannel = deviceAcksChannel(config.redisPrefix);
  }

  /** `first`: before the others (a phone's wake-up is written before any session starts fetching). */
  listen(listener: DeviceSignalListener, first = false): void {
    if (first) this.listeners.unshift(listener);
    else this.listeners.push(listener);
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.subscriberConnection();
    subscriber.on('message', (channel: string, message: string) => this.route(channel, message));
    await subscriber.subscribe(
      this.signal.channel,
      this.settingsSignal.channel,
      this.leases.channel,
      this.acksChannel,
      this.revocations.channel,
    );
  }

  /** Passes a phone's acks to the node that serves its session, wherever that is. */
  async publishAcks(acks: DeviceAcks): Promise<void> {
    await this.redis.shared.publish(this.acksChannel, JSON.stringify(acks));
  }

  private route(channel: string, message: string): void {
    if (channel === this.signal.channel) {
      for (const { deviceId, urgent } of WorkSignal.parse(message))
        for (const listener of this.listeners) listener.work?.(deviceId, urgent);
    } else if (channel === this.settingsSignal.channel) {
      const change = DeviceSettingsSignal.parse(message);
      if (change)
        for (const listener of this.listeners) listener.settings?.(change.deviceId, change.settings);
    } else if (channel === this.leases.channel) {
      const taken = DeviceLeases.parse(message);
      if (taken) for (const listener of this.listeners) listener.leaseTaken?.(taken.deviceId);
    } else if (channel === this.acksChannel) {
      const acks = parseAcks(message);
      if (acks) for (const listener of this.listeners) listener.acks?.(acks.deviceId, acks.messageIds);
    } else if (channel === this.revocations.channel) {
      const revoked = DeviceRevocationSignal.parse(message);
      if (revoked)
        for (const listener of this.listeners) listener.revoked?.(revoked.deviceId, revoked.reason);
    }
  }
}

function parseAcks(message: string): DeviceAcks | undefined {
  try {
    const value = JSON.parse(message) as Partial<DeviceAcks>;
    if (
      Number.isInteger(value.deviceId) &&
      Array.isArray(value.messageIds) &&
      value.messageIds.every((id) => Number.isSafeInteger(id))
    )
      return { deviceId: value.deviceId as number, messageIds: value.messageIds };
  } catch {
    // not ours: ignored
  }
  return undefined;
}
