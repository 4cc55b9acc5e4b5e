import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { IncomingMessage } from 'node:http';
import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { serializeError } from './error-serializer';

/** Paths that must never reach a log line: credentials and message bodies. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  // The dashboard's session: its cookie, the CSRF token, and the cookie as the sign-in answer sets it.
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'req.query.token',
  'req.query.pass',
  'req.query.body',
  'req.query.datajson',
  'req.body',
  'body',
  'token',
  'secret',
  'pass',
  'password',
  // one level down too (a job's data, an auth object, a socket handshake)
  '*.body',
  '*.token',
  '*.secret',
  '*.pass',
  '*.password',
];

/** The caller's X-Request-Id when it is sane, else a new UUID: one id follows a request through our logs. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Structured JSON logs (pino), one line per request with its id; the level comes from LOG_LEVEL. */
@Module({})
export class LoggingModule {
  static forApp(appName: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            // nestjs-pino's default route pattern ({/*splat}) matches nothing on Nest 12's Fastify adapter:
            // without this, no request line and no request id in the lines logged while serving a request.
            forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
            // Probes and scrapes get no request context. Binding one is an AsyncLocalStorage.run, and on
            // Node 20 the first run installs a promise hook for the process's lifetime: the dispatcher,
            // scheduler and status apps serve nothing else over HTTP, and the hook cost the dispatcher
            // about an eighth of its CPU while draining (docs/benchmarks.md, schedule).
            // The SMSGate app's device API on the dispatcher likewise: thousands of phones pull and report
            // there (three requests per message); its services log each event with the device's id.
            exclude: [
              { path: 'health/{*probe}', method: RequestMethod.ALL },
              { path: 'metrics', method: RequestMethod.ALL },
              { path: 'mobile/v1/{*route}', method: RequestMethod.ALL },
            ],
            pinoHttp: {
              level: config.logLevel,
              // nodeId names this process in every line (the dispatcher's node id is also its lease owner).
              base: {
                app: appName,
                pid: process.pid,
                nodeId: appName === 'dispatcher' ? config.dispatcher.nodeId : `${hostname()}-${process.pid}`,
              },
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              // Fastify has already named the request (see requestId in http-app.ts); used when it has not.
              genReqId: requestId,
              // The query string carries tokens and passwords in this API: log the path only. A failed
              // query's parameters carry bodies and numbers: errors are logged without them.
              serializers: {
                err: serializeError,
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  path: req.url.split('?')[0],
                }),
              },
              // Probes and scrapes every few seconds would drown the log.
              autoLogging: {
                ignore: (req: IncomingMessage & { originalUrl?: string }) =>
                  /^\/(health|metrics|mobile\/v1)(\/|\?|$)/.test(req.originalUrl ?? req.url ?? ''),
              },
            },
          }),
        }),
      ],
    };
  }
}
