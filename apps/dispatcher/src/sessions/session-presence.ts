import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DevicePresence } from '@smsfleet/queueing';

const PRESENCE_REFRESH_MS = 30_000;
/** Signs of life (phone events) are written to Redis together, this often: lastseen is a second-resolution field. */
const SEEN_FLUSH_MS = 1_000;

/**
 * Whether this node's phones are online, and when they were last seen, in Redis: refreshed for all of
 * them together (a record expires unless refreshed, so a node that dies takes its phones offline with it).
 */
@Injectable()
export class SessionPresence implements OnApplicationShutdown {
  private readonly logger = new Logger(SessionPresence.name);
  private presenceTimer?: NodeJS.Timeout;
  private seenTimer?: NodeJS.Timeout;
  /** Devices that sent an event since the last flush of signs of life. */
  private readonly seenSinceFlush = new Set<number>();
  private connected: () => Iterable<number> = () => [];
  private isConnected: (deviceId: number) => boolean = () => false;

  constructor(
    private readonly presence: DevicePresence,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts the refreshes for the devices `connected` names (those with a session or a live stream here). */
  start(connected: () => Iterable<number>, isConnected: (deviceId: number) => boolean): void {
    this.connected = connected;
    this.isConnected = isConnected;
    this.presenceTimer = setInterval(() => void this.refresh(), PRESENCE_REFRESH_MS);
    this.seenTimer = setInterval(() => void this.flushSeen(), SEEN_FLUSH_MS);
  }

  /** A sign of life from the phone (an event): online and seen now, written with the others within a second. */
  seen(deviceId: number): void {
    this.seenSinceFlush.add(deviceId);
  }

  async online(deviceId: number): Promise<void> {
    await this.presence
      .markOnline([deviceId], this.config.dispatcher.nodeId)
      .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'presence not recorded'));
  }

  async offline(deviceId: number): Promise<void> {
    await this.presence
      .markOffline(deviceId, this.config.dispatcher.nodeId)
      .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'presence not cleared'));
  }

  private async refresh(): Promise<void> {
    await this.presence
      .markOnline([...this.connected()], this.config.dispatcher.nodeId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'presence not refreshed'));
  }

  /** Only phones still connected here: one that left since its event must not read as online again. */
  private async flushSeen(): Promise<void> {
    const deviceIds = [...this.seenSinceFlush].filter((deviceId) => this.isConnected(deviceId));
    this.seenSinceFlush.clear();
    await this.presence
      .markOnline(deviceIds, this.config.dispatcher.nodeId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'lastseen not refreshed'));
  }

  onApplicationShutdown(): void {
    clearInterval(this.presenceTimer);
    clearInterval(this.seenTimer);
  }
}
