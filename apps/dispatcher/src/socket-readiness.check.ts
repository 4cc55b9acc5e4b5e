import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { io } from 'socket.io-client';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DEVICE_NAMESPACE, DeviceConnectError } from '@smsfleet/contracts';
import { Readiness } from '@smsfleet/observability';

const PROBE_TIMEOUT_MS = 1_500;

/**
 * Readiness condition of the dispatcher: it accepts phone sockets. Probes its own /devices namespace over
 * the websocket transport without credentials; the handshake refusal ("unauthorized") proves that the
 * server, the namespace and its authentication middleware answer.
 */
@Injectable()
export class SocketReadinessCheck implements OnModuleInit {
  constructor(
    private readonly readiness: Readiness,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.readiness.register('sockets', () => this.probe());
  }

  probe(): Promise<void> {
    const { host, port } = this.config.dispatcher;
    const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const socket = io(`http://${target.includes(':') ? `[${target}]` : target}:${port}${DEVICE_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true, // never a cached manager: each probe is one fresh handshake
      reconnection: false,
      timeout: PROBE_TIMEOUT_MS,
      auth: {},
    });
    return new Promise<void>((resolve, reject) => {
      socket.once('connect_error', (error: Error) => {
        socket.close();
        if (error.message === DeviceConnectError.unauthorized) resolve();
        else reject(new Error(`socket handshake failed: ${error.message}`));
      });
      socket.once('connect', () => {
        socket.close();
        reject(new Error('a socket without credentials was accepted'));
      });
    });
  }
}
