import { createServer, Server } from 'node:http';
import { Logger as NestLogger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { APP_CONFIG, AppConfig, TrustProxy } from '@smsfleet/config';
import { Readiness } from './health/readiness';
import { answerClientError } from './client-error-answer';
import { requestId } from './logging.module';
import { instrumentHttp } from './metrics/http-metrics';
import { Metrics } from './metrics/metrics';

export interface HttpAppOptions {
  host: string;
  port: number;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** Behind reverse proxies: the hops (a count, or their addresses) whose X-Forwarded-For is believed. */
  trustProxy?: TrustProxy;
  /**
   * A request (headers and body) must have arrived within this time, or it is answered 408 and its
   * connection closed; its socket may idle no longer either. Unset: no limit (Node's and Fastify's default).
   */
  requestTimeoutMs?: number;
  /** Keep each parsed body's bytes as `request.rawBody` too (to check a signature over them). */
  rawBody?: boolean;
  configure?: (app: NestFastifyApplication) => Promise<void> | void;
}

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Headers are small: a client that has not sent them in this time is not a real client. */
const HEADERS_TIMEOUT_MS = 20_000;
/** A socket idles this much longer than a request may take, so the request timeout answers first. */
const CONNECTION_IDLE_MARGIN_MS = 5_000;

/** Builds and starts one of our apps on Fastify, with JSON logs, HTTP metrics and graceful shutdown. */
export async function startHttpApp(
  module: Type<unknown>,
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const timeout = options.requestTimeoutMs;
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit ?? 1_048_576,
    genReqId: requestId,
    trustProxy: trustedHops(options.trustProxy ?? false),
    clientErrorHandler: answerClientError,
    ...(timeout === undefined
      ? {}
      : {
          requestTimeout: timeout,
          connectionTimeout: timeout + CONNECTION_IDLE_MARGIN_MS,
          // Node checks request times on this interval (30 s by default): a slow body is cut within a second.
          http: { connectionsCheckingInterval: 1_000, headersTimeout: Math.min(timeout, HEADERS_TIMEOUT_MS) },
        }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    abortOnError: false,
    rawBody: options.rawBody ?? false,
  });
  app.useLogger(app.get(Logger));
  instrumentHttp(adapter.getInstance(), app.get(Metrics));
  // The request id goes back to the caller, who can quote it when asking about a request.
  adapter.getInstance().addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-request-id', request.id);
    return payload;
  });
  handleShutdownSignals(app);
  const monitoringPort = app.get<AppConfig>(APP_CONFIG).monitoringPort;
  const monitoring = monitoringPort > 0 ? serveMonitoringApart(adapter, monitoringPort) : undefined;
  await options.configure?.(app);
  await app.listen(options.port, options.host);
  if (monitoring) {
    await monitoring.listen(options.host);
    app.get(Logger).log(`metrics and readiness on http://${options.host}:${monitoringPort}`);
  }
  app.get(Logger).log(`listening on http://${options.host}:${options.port}`);
  return app;
}

/** Paths of the monitoring port: what Prometheus and the orchestrator read, and nothing else. */
const MONITORING_PATHS = /^\/(metrics|health\/ready|health\/live)$/;
/** What the app's own port stops serving once they have a port of their own (liveness stays). */
const MONITORING_ONLY = /^\/(metrics|health\/ready)$/;

/**
 * `/metrics` and `/health/ready` on a port of their own, which compose does not publish: they show
 * process internals, volumes per route and a failing dependency's error, and cost a database round trip
 * each, so they are for the operator's network only. The same routes, served by a second listener.
 */
function serveMonitoringApart(
  adapter: FastifyAdapter,
  port: number,
): { listen(host: string): Promise<void> } {
  const fastify = adapter.getInstance();
  let server: Server | undefined;
  fastify.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    const onMonitoringPort = request.socket.localPort === port;
    const allowed = onMonitoringPort ? MONITORING_PATHS.test(path) : !MONITORING_ONLY.test(path);
    if (!allowed)
      await reply
        .code(404)
        .send({ error: 1, message: `no such endpoint: ${request.method} ${path}`, code: 'not_found' });
  });
  fastify.addHook('onClose', async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });
  return {
    listen: (host) =>
      new Promise<void>((resolve, reject) => {
        server = createServer((request, response) => fastify.routing(request, response));
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      }),
  };
}

/**
 * Fastify takes no hop count (it trusts nothing for a number): the last `n` hops, the peer first, become a
 * function in proxy-addr's terms. Only safe where the proxies are the only way in (ADR 0904).
 */
function trustedHops(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/**
 * SIGTERM/SIGINT: readiness turns red first (load balancers stop sending work), the app keeps serving for
 * READINESS_DRAIN_MS, then Nest's shutdown hooks run (each service finishes or hands back its work).
 */
function handleShutdownSignals(app: NestFastifyApplication): void {
  const readiness = app.get(Readiness);
  const drainMs = app.get<AppConfig>(APP_CONFIG).readinessDrainMs;
  const logger = new NestLogger('Shutdown');
  const onSignal = (signal: NodeJS.Signals) => {
    if (readiness.isShuttingDown) return;
    readiness.markShuttingDown();
    logger.log({ signal, drainMs }, 'shutting down: readiness is red');
    void (async () => {
      try {
        await new Promise((resolve) => setTimeout(resolve, drainMs));
        // Nest's context accepts the signal (handed to onApplicationShutdown); the Fastify typing omits it.
        await (app as unknown as { close(signal: string): Promise<void> }).close(signal);
        for (const name of SHUTDOWN_SIGNALS) process.removeListener(name, onSignal);
        // Exit the way the signal would have (128 + n), now that everything is closed.
        process.kill(process.pid, signal);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  for (const name of SHUTDOWN_SIGNALS) process.on(name, onSignal);
}
