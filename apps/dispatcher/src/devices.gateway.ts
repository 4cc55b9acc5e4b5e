import { Inject, Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import {
  DEVICE_NAMESPACE,
  DeviceEvent,
  DeviceConnectError,
  HelloPayload,
  PhoneEventAck,
  phoneSettings,
} from '@smsfleet/contracts';
import { claimedDeviceId, DeviceAuthenticator, DeviceRejected } from './device-authenticator';
import { DeviceProfileService } from './device-profile.service';
import { IncomingSmsService, InvalidIncoming } from './incoming-sms.service';
import { clientAddressResolver } from './limits/client-address';
import { HandshakesBusy, PhoneLimits, RateLimited } from './limits/phone-limits';
import { SessionRegistry } from './sessions/session-registry';
import { DeviceNamespace, DeviceSocket } from './socket/device-socket';
import { limitEvents } from './socket/socket-limits';
import { SocketTransport } from './socket/socket-transport';
import { InvalidReport, StatusIntakeService } from './status-intake.service';
import { splitAck } from './socket-args';

/** A refused handshake as the phone's `connect_error` sees it: the message, and `data` (when to retry). */
function refusal(message: string, data?: { retryAfterMs: number }): Error {
  return Object.assign(new Error(message), data ? { data } : {});
}

/**
 * The phones' socket.io namespace (docs/device-protocol.md): limits, authenticates, then hands each phone
 * to its session. The largest frame is a `status` array of 1,000 reports with their errors (about 600 KB).
 */
@WebSocketGateway({
  namespace: DEVICE_NAMESPACE,
  transports: ['websocket'],
  pingInterval: 20_000,
  pingTimeout: 20_000,
  maxHttpBufferSize: 1_048_576,
})
export class DevicesGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(DevicesGateway.name);
  private readonly addressOf: (request: IncomingMessage) => string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly limits: PhoneLimits,
    private readonly authenticator: DeviceAuthenticator,
    private readonly sessions: SessionRegistry,
    private readonly profiles: DeviceProfileService,
    private readonly statusIntake: StatusIntakeService,
    private readonly incomingSms: IncomingSmsService,
  ) {
    this.addressOf = clientAddressResolver(config.dispatcher.trustProxy);
  }

  afterInit(namespace: DeviceNamespace): void {
    // Refused in the handshake: an unauthenticated socket never reaches the handlers. The limits come first,
    // before the database is asked anything (ADR 1602).
    namespace.use((socket, next) => {
      if (!this.sessions.accepting) return next(new Error(DeviceConnectError.unavailable));
      const address = this.addressOf(socket.request);
      const claimed = claimedDeviceId(socket.handshake.auth);
      this.limits
        .admitHandshake(address, claimed)
        .then(() => this.limits.check(() => this.authenticator.authenticate(socket.handshake.auth)))
        .then((identity) => {
          socket.data.identity = identity;
          limitEvents(socket, identity.deviceId, address, this.limits, (retryAfterMs) => {
            this.limits.limited('goodbye');
            this.logger.warn(
              { deviceId: identity.deviceId, retryAfterMs },
              'phone over its limits sent away',
            );
            void this.limits.sendAway(identity.deviceId, retryAfterMs);
          });
          next();
        })
        .catch((error: unknown) => {
          if (error instanceof RateLimited) {
            this.limits.limited('handshake');
            return next(refusal(DeviceConnectError.rateLimited, { retryAfterMs: error.retryAfterMs }));
          }
          if (error instanceof HandshakesBusy) {
            this.limits.limited('handshake');
            return next(new Error(DeviceConnectError.unavailable));
          }
          if (error instanceof DeviceRejected) {
            if (error.message === DeviceConnectError.unauthorized)
              void this.limits.handshakeFailed(address, claimed);
            return next(new Error(error.message));
          }
          // Not a verdict on the phone: "unauthorized" here would make a phone that follows the protocol
          // give up for good (the soak found phones left offline after a reconnect storm on a slow database).
          this.logger.warn({ err: error }, 'device not checked (dependency away); phone asked to retry');
          next(new Error(DeviceConnectError.unavailable));
        });
    });
  }

  async handleConnection(socket: DeviceSocket): Promise<void> {
    const { identity } = socket.data;
    // Bound before the first await, as Nest binds its handlers: a reconnecting phone flushes its reports at once.
    socket.on(DeviceEvent.status, (...args: unknown[]) => {
      const { payload, ack } = splitAck<PhoneEventAck<typeof DeviceEvent.status>>(args);
      void this.status(socket, payload).then((answer) => ack?.(answer));
    });
    this.logger.log({ deviceId: identity.deviceId }, 'phone connected');
    const transport = new SocketTransport(socket);
    socket.data.transport = transport;
    await this.sessions.open(transport, identity, () => socket.connected);
    await this.profiles
      .touch(identity.deviceId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'lastseen not saved'));
  }

  async handleDisconnect(socket: DeviceSocket): Promise<void> {
    const { identity, transport } = socket.data;
    if (!identity) return;
    this.logger.log({ deviceId: identity.deviceId }, 'phone disconnected');
    if (transport) await this.sessions.close(transport, identity.deviceId);
    await this.profiles
      .touch(identity.deviceId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'lastseen not saved'));
  }

  @SubscribeMessage(DeviceEvent.hello)
  async hello(
    @ConnectedSocket() socket: DeviceSocket,
    @MessageBody() payload: HelloPayload,
  ): Promise<PhoneEventAck<typeof DeviceEvent.hello>> {
    const { identity } = socket.data;
    try {
      this.sessions.seen(identity.deviceId);
      await this.profiles.recordHello(identity.deviceId, payload ?? {});
      return {
        ok: true,
        settings: phoneSettings(this.sessions.settingsOf(identity.deviceId) ?? identity.settings),
      };
    } catch (error) {
      // What PostgreSQL refuses for its data is dead-lettered and answered ok (ADR 1601); this is the
      // rest (a lost connection, a cancelled statement): thrown, the phone got no answer at all.
      this.logger.warn(
        { err: error, deviceId: identity.deviceId },
        'hello not recorded; the phone will send it again',
      );
      return { ok: false, error: 'temporarily unavailable, retry' };
    }
  }

  /**
   * `status` is the busiest event (two per message) and is bound by hand in `handleConnection`, not with
   * `@SubscribeMessage`: Nest runs every decorated event through an rxjs pipeline and its context
   * (guards, pipes, filters, none of which this gateway uses), which cost the dispatcher about an eighth
   * of its CPU while draining (docs/benchmarks.md, schedule).
   */
  private async status(
    socket: DeviceSocket,
    payload: unknown,
  ): Promise<PhoneEventAck<typeof DeviceEvent.status>> {
    try {
      this.sessions.seen(socket.data.identity.deviceId);
      await this.statusIntake.accept(socket.data.identity.deviceId, payload);
      return { ok: true };
    } catch (error) {
      if (error instanceof InvalidReport) return { ok: false, error: error.message };
      this.logger.warn({ err: error }, 'status report not queued; the phone will retry');
      return { ok: false, error: 'temporarily unavailable, retry' };
    }
  }

  @SubscribeMessage(DeviceEvent.incoming)
  async incoming(
    @ConnectedSocket() socket: DeviceSocket,
    @MessageBody() payload: unknown,
  ): Promise<PhoneEventAck<typeof DeviceEvent.incoming>> {
    const { deviceId } = socket.data.identity;
    try {
      this.sessions.seen(deviceId);
      const id = await this.incomingSms.store(deviceId, payload);
      this.logger.log({ deviceId, messageId: id }, 'incoming sms stored');
      return { ok: true, id };
    } catch (error) {
      if (error instanceof InvalidIncoming) return { ok: false, error: error.message };
      this.logger.warn({ err: error, deviceId }, 'incoming sms not stored; the phone will retry');
      return { ok: false, error: 'temporarily unavailable, retry' };
    }
  }
}
