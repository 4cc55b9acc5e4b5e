import { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';

export interface HttpAppOptions {
  host: string;
  port: number;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  configure?: (app: NestFastifyApplication) => Promise<void> | void;
}

/** Builds and starts one of our apps on Fastify, with JSON logs and SIGTERM/SIGINT handled by Nest. */
export async function startHttpApp(
  module: Type<unknown>,
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    module,
    new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1_048_576 }),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await options.configure?.(app);
  await app.listen(options.port, options.host);
  app.get(Logger).log(`listening on http://${options.host}:${options.port}`);
  return app;
}
