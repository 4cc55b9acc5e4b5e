import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { PhoneLimits } from '../limits/phone-limits';
import { DeviceSignalRouter } from '../sessions/signal-router';
import { MobileError } from './mobile-errors';

/** The app's read timeout is an hour; a comment this often keeps proxies and NATs from closing the stream. */
export const KEEPALIVE_MS = 15_000;
/**
 * Keepalives go out in this many slices spread over KEEPALIVE_MS (a device's streams always in the same
 * one): thousands of writes in one pass hold the event loop, and a wake-up arriving meanwhile waits for
 * them (docs/benchmarks.md, "fleet, SSE phones").
 */
const KEEPALIVE_SLICES = 50;

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
 * Streams one device keeps on one node: an app opens one; a second or third is the app reconnecting while
 * the old connection has not been seen to close yet. Past this, the oldest is ended.
 */
export const STREAMS_PER_DEVICE = 3;
/** A stream's place in the node's and its address's counts (`EventStreams.reserve`). */
export interface StreamSlot {
  release(): void;
}

/** How long an app refused a stream is asked to wait (it waits 5–60 s by itself). */
const STREAM_RETRY_AFTER_MS = 30_000;

/**
 * The app's Server-Sent Events streams open on this node (`GET /mobile/v1/events`), by device. Work and
 * settings signals reach them from every node, so a stream wakes its phone wherever the phone's session
 * runs. One timer sends every stream's keepalive: a stream costs its socket and a set entry, no more.
 */
@Injectable()
export class EventStreams implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventStreams.name);
  private readonly streams = new Map<number, Set<ServerResponse>>();
  private readonly byAddress = new Map<string, number>();
  private total = 0;
  private keepalive?: NodeJS.Timeout;
  private keepaliveSlice = 0;

  constructor(
    private readonly signals: DeviceSignalRouter,
    private readonly limits: PhoneLimits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.signals.listen(
      {
        work: (deviceId) => this.send(deviceId, 'MessageEnqueued'),
        settings: (deviceId) => this.send(deviceId, 'SettingsUpdated'),
        revoked: (deviceId) => this.end(deviceId),
      },
      true,
    );
    this.keepalive = setInterval(() => this.beat(), KEEPALIVE_MS / KEEPALIVE_SLICES);
    this.keepalive.unref();
  }

  /**
   * Takes a place for a stream from `address` before the stream is set up (so that requests arriving
   * together cannot all pass), or refuses: past `PHONE_LIMIT_STREAMS_PER_NODE` with 503 (the app reconnects,
   * through the load balancer, to another node), past `PHONE_LIMIT_STREAMS_PER_ADDRESS` with 429. The place
   * is given back when its stream closes, or by `release` if the stream is never opened.
   */
  reserve(address: string): StreamSlot {
    const { streamsPerNode, streamsPerAddress } = this.config.dispatcher.phoneLimits;
    if (this.total >= streamsPerNode) {
      this.limits.limited('stream');
      throw new MobileError('unavailable', 'this node holds all the event streams it may; retry');
    }
    if ((this.byAddress.get(address) ?? 0) >= streamsPerAddress) {
      this.limits.limited('stream');
      throw new MobileError(
        'rate_limited',
        'too many event streams from this address; retry later',
        STREAM_RETRY_AFTER_MS,
      );
    }
    this.total++;
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.total--;
        const left = (this.byAddress.get(address) ?? 1) - 1;
        if (left > 0) this.byAddress.set(address, left);
        else this.byAddress.delete(address);
      },
    };
  }

  devices(): Iterable<number> {
    return this.streams.keys();
  }

  has(deviceId: number): boolean {
    return this.streams.has(deviceId);
  }

  /**
   * Starts the stream on `response`, in `slot` (see `reserve`); `onClose` runs once it ends (the phone left,
   * or we shut down). A device past `STREAMS_PER_DEVICE` streams here has its oldest ended.
   */
  open(deviceId: number, response: ServerResponse, onClose: () => void, slot?: StreamSlot): void {
    response.writeHead(200, EVENT_STREAM_HEADERS);
    // A first line at once: proxies and the app's client see the stream open without waiting 15 s.
    response.write(':connected\n\n');
    let set = this.streams.get(deviceId);
    if (!set) this.streams.set(deviceId, (set = new Set()));
    if (set.size >= STREAMS_PER_DEVICE) set.values().next().value?.end();
    set.add(response);
    response.once('close', () => {
      slot?.release();
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

  /** The streams of one slice of the devices: each stream hears a keepalive every KEEPALIVE_MS. */
  private beat(): void {
    const slice = this.keepaliveSlice;
    this.keepaliveSlice = (slice + 1) % KEEPALIVE_SLICES;
    for (const [deviceId, set] of this.streams)
      if (deviceId % KEEPALIVE_SLICES === slice) for (const response of set) response.write(':keepalive\n\n');
  }

  /** Ends every stream: the app reconnects (to another node) after its 5 s delay, and pulls on connect. */
  onApplicationShutdown(): void {
    clearInterval(this.keepalive);
    const all = [...this.streams.values()].flatMap((set) => [...set]);
    if (all.length > 0) this.logger.log({ streams: all.length }, 'closing event streams');
    for (const response of all) response.end();
  }
}
