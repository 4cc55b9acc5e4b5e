import type { ServerResponse } from 'node:http';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DeviceSignalRouter } from '../sessions/signal-router';

/** The app's read timeout is an hour; a comment this often keeps proxies and NATs from closing the stream. */
export const KEEPALIVE_MS = 15_000;

/** Events the app understands (its `ExternalEventType`); `data: null` for these. */
export type AppEvent = 'MessageEnqueued' | 'SettingsUpdated' | 'WebhooksUpdated';

/** Headers of an event stream; `X-Accel-Buffering: no` turns buffering off in nginx-based proxies. */
export const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

const frame = (event: AppEvent) => `event: ${event}\ndata: null\n\n`;

/**
 * The app's Server-Sent Events streams open on this node (`GET /mobile/v1/events`), by device. Work and
 * settings signals reach them from every node, so a stream wakes its phone wherever the phone's session
 * runs. One timer sends every stream's keepalive: a stream costs its socket and a set entry, no more.
 */
@Injectable()
export class EventStreams implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventStreams.name);
  private readonly streams = new Map<number, Set<ServerResponse>>();
  private keepalive?: NodeJS.Timeout;

  constructor(private readonly signals: DeviceSignalRouter) {}

  onModuleInit(): void {
    this.signals.listen(
      {
        work: (deviceId) => this.send(deviceId, 'MessageEnqueued'),
        settings: (deviceId) => this.send(deviceId, 'SettingsUpdated'),
        revoked: (deviceId) => this.end(deviceId),
      },
      true,
    );
    this.keepalive = setInterval(() => this.beat(), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get count(): number {
    let count = 0;
    for (const set of this.streams.values()) count += set.size;
    return count;
  }

  devices(): Iterable<number> {
    return this.streams.keys();
  }

  has(deviceId: number): boolean {
    return this.streams.has(deviceId);
  }

  /** Starts the stream on `response`; `onClose` runs once it ends (the phone left, or we shut down). */
  open(deviceId: number, response: ServerResponse, onClose: () => void): void {
    response.writeHead(200, EVENT_STREAM_HEADERS);
    // A first line at once: proxies and the app's client see the stream open without waiting 15 s.
    response.write(':connected\n\n');
    let set = this.streams.get(deviceId);
    if (!set) this.streams.set(deviceId, (set = new Set()));
    set.add(response);
    response.once('close', () => {
      const current = this.streams.get(deviceId);
      current?.delete(response);
      if (current?.size === 0) this.streams.delete(deviceId);
      onClose();
    });
  }

  /** Writes `event` to every stream of the device on this node; false when it has none here. */
  send(deviceId: number, event: AppEvent): boolean {
    const set = this.streams.get(deviceId);
    if (!set) return false;
    for (const response of set) response.write(frame(event));
    return true;
  }

  /** Ends the device's streams on this node (its token was revoked: the app's next request is refused). */
  end(deviceId: number): void {
    const set = this.streams.get(deviceId);
    if (!set) return;
    this.logger.log({ deviceId, streams: set.size }, 'event streams of a revoked device closed');
    for (const response of set) response.end();
  }

  private beat(): void {
    for (const set of this.streams.values()) for (const response of set) response.write(':keepalive\n\n');
  }

  /** Ends every stream: the app reconnects (to another node) after its 5 s delay, and pulls on connect. */
  onApplicationShutdown(): void {
    clearInterval(this.keepalive);
    const all = [...this.streams.values()].flatMap((set) => [...set]);
    if (all.length > 0) this.logger.log({ streams: all.length }, 'closing event streams');
    for (const response of all) response.end();
  }
}
