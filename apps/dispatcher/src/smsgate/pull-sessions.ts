import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { SmsPayload } from '@smsfleet/contracts';
import { WorkSignal } from '@smsfleet/queueing';
import { DeviceProfileService } from '../device-profile.service';
import { DeviceSession } from '../session/device-session';
import { SessionRegistry } from '../sessions/session-registry';
import { DeviceSignalRouter } from '../sessions/signal-router';
import { EventStreams } from './event-streams';
import { PhoneWaker, PullTransport } from './pull-transport';
import { SmsGateDevice, SmsGateDevices } from './smsgate-devices';
import { MobileError } from './mobile-errors';

/**
 * A pulling phone's session stays this long after its last request while it has no event stream here
 * and nothing handed out: long enough for the reports that follow a pull, short enough not to hold the
 * device's lease for a phone that pulls every 15 minutes.
 */
export const PULL_SESSION_LINGER_MS = 30_000;
const SWEEP_MS = 5_000;

/**
 * The sessions of phones running the SMSGate app on this node. A phone's session lives on the node that
 * served its last pull or report, or holds its event stream: a request on another node takes the
 * device's lease there (one consumer at a time), and this session ends, handing back what it held.
 */
@Injectable()
export class PullSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PullSessions.name);
  private readonly opening = new Map<number, Promise<DeviceSession>>();
  private sweeper?: NodeJS.Timeout;
  private readonly waker: PhoneWaker;

  constructor(
    private readonly registry: SessionRegistry,
    private readonly streams: EventStreams,
    private readonly profiles: DeviceProfileService,
    private readonly signals: DeviceSignalRouter,
    private readonly devices: SmsGateDevices,
    workSignal: WorkSignal,
  ) {
    this.waker = {
      hasLocalStream: (deviceId) => streams.has(deviceId),
      tellLocal: (deviceId) => void streams.send(deviceId, 'MessageEnqueued'),
      tellEverywhere: (deviceId) =>
        void workSignal
          .publish([deviceId])
          .catch((error: Error) => this.logger.warn({ err: error, deviceId }, 'phone not woken')),
    };
  }

  onModuleInit(): void {
    this.registry.countConnections(() => this.streams.devices());
    this.signals.listen({
      acks: (deviceId, messageIds) => this.localTransport(deviceId)?.reported(messageIds),
    });
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** The pull: what the phone may hold now (window, pace, urgent first, valid), handed out to it. */
  async pull(device: SmsGateDevice): Promise<SmsPayload[]> {
    const session = await this.attach(device);
    return (session.transport as PullTransport).pull(() => session.refill());
  }

  /**
   * The phone reported states of these messages: each is acknowledged to its session, here or on the
   * node that serves it. A report does not move the session (only pulls and streams do): the app pulls
   * one request at a time, so the lease then never changes hands while a node still fetches for a pull.
   */
  async reported(device: SmsGateDevice, messageIds: number[]): Promise<void> {
    const local = this.localTransport(device.deviceId);
    if (local) local.reported(messageIds);
    else await this.signals.publishAcks({ deviceId: device.deviceId, messageIds });
  }

  private localTransport(deviceId: number): PullTransport | undefined {
    const transport = this.registry.sessionOf(deviceId)?.transport;
    return transport instanceof PullTransport && !transport.isClosed ? transport : undefined;
  }

  /** The phone's event stream opened here: its session moves here, and fetches for it eagerly. */
  async streamOpened(device: SmsGateDevice): Promise<void> {
    await this.attach(device);
  }

  /** The device's session on this node, opened (taking the lease) if it has none. */
  private attach(device: SmsGateDevice): Promise<DeviceSession> {
    const { deviceId } = device;
    const current = this.registry.sessionOf(deviceId);
    if (current?.transport instanceof PullTransport && !current.transport.isClosed) {
      current.transport.lastActivity = Date.now();
      return Promise.resolve(current);
    }
    let opening = this.opening.get(deviceId);
    if (!opening) {
      opening = this.open(device).finally(() => this.opening.delete(deviceId));
      this.opening.set(deviceId, opening);
    }
    return opening;
  }

  private async open(device: SmsGateDevice): Promise<DeviceSession> {
    if (!this.registry.accepting) throw new MobileError('unavailable', 'not ready to serve phones, retry');
    const current = await this.devices.currentSettings(device);
    const session = await this.registry.open(new PullTransport(device.deviceId, this.waker), current);
    if (!session) throw new MobileError('unavailable', 'could not take the device on now, retry');
    this.logger.log({ deviceId: device.deviceId }, 'smsgate phone session opened');
    void this.profiles
      .touch(device.deviceId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'lastseen not saved'));
    return session;
  }

  /** Ends the sessions of phones gone quiet: no stream here, nothing handed out, no recent request. */
  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const deviceId of this.registry.deviceIds()) {
      const session = this.registry.sessionOf(deviceId);
      const transport = session?.transport;
      if (!(transport instanceof PullTransport)) continue;
      if (this.streams.has(deviceId) || transport.outstanding > 0) continue;
      if (now - transport.lastActivity < PULL_SESSION_LINGER_MS) continue;
      transport.disconnect();
      await this.registry.close(transport, deviceId);
      this.logger.log({ deviceId }, 'smsgate phone session ended (no stream, no pull)');
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}
