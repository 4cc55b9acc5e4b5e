import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import helmet from '@fastify/helmet';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceQueues, RedisConnections } from '@smsfleet/queueing';
import { SECURITY_HEADERS } from '../common/security-headers';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
/** The queue list is read again on a request this long after the last read (new devices appear). */
const REFRESH_AFTER_MS = 2_000;

/**
 * bull-board at /admin/queues for operators: every device queue and the status queue, behind HTTP Basic
 * authentication (ADMIN_USER / ADMIN_PASSWORD). It shows every tenant's messages, so there is no way in
 * with an account's API token, and without a configured password it is not mounted at all. Read-only
 * (bull-board refuses every change with 405) unless ADMIN_QUEUES_WRITABLE is set: a job added or promoted
 * there is an SMS sent through a tenant's phone.
 */
@Injectable()
export class QueueDashboard implements OnModuleInit {
  private readonly logger = new Logger(QueueDashboard.name);
  private board?: ReturnType<typeof createBullBoard>;
  private refreshedAt = 0;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly queues: DeviceQueues,
    private readonly redis: RedisConnections,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const password = this.config.admin.password;
    if (password === undefined) {
      this.logger.log('queue dashboard off (set ADMIN_PASSWORD to mount it at /admin/queues)');
      return;
    }
    const serverAdapter = new BullBoardFastifyAdapter();
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
    this.board = createBullBoard({ queues: [], serverAdapter });
    const expected = digest(`${this.config.admin.user}:${password}`);
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    await fastify.register(async (scope) => {
      // This scope loads before the app's own hooks exist (it is registered at module init): its own headers.
      await scope.register(helmet, SECURITY_HEADERS);
      // Encapsulated: the check guards the dashboard's routes only.
      scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (basicCredentialsMatch(request.headers.authorization, expected)) {
          await this.refreshIfStale();
          return;
        }
        await reply
          .code(401)
          .header('www-authenticate', 'Basic realm="smsfleet admin", charset="UTF-8"')
          .send({ error: 1, message: 'authentication required', code: 'invalid_credentials' });
      });
      await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
    });
  }

  /** Every device's queue (from PostgreSQL, which knows every device). */
  private async refreshIfStale(): Promise<void> {
    if (!this.board || Date.now() - this.refreshedAt < REFRESH_AFTER_MS) return;
    this.refreshedAt = Date.now();
    const devices: Array<{ id: number }> = await this.db.query(
      `SELECT id FROM devices WHERE removed_at IS NULL ORDER BY id`,
    );
    const options = { readOnlyMode: !this.config.admin.writable };
    this.board.replaceQueues([
      ...devices.map((device) => new BullMQAdapter(this.queues.queue(device.id), options)),
    ]);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function basicCredentialsMatch(header: string | undefined, expected: Buffer): boolean {
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header) : null;
  if (!match) return false;
  // Compared as digests: constant time whatever the lengths.
  return timingSafeEqual(digest(Buffer.from(match[1], 'base64').toString('utf8')), expected);
}
