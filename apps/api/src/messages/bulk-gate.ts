import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { ApiError } from '../common/api-error';
import { CallerBeforeBody } from '../common/early-token-check';
import { BULK_ANSWER_BUDGET_MS } from './message-intake.service';

/** A slot of one account, taken by one request; free once every holder has let go. */
interface Slot {
  accountId: number;
  holders: number;
}

/**
 * One account's `addalotofsms` requests run API_BULK_CONCURRENCY_PER_ACCOUNT at a time (default 4) per API
 * process; one more meanwhile is answered `rate_limited` with `Retry-After`. A bulk is up to 16 MB to
 * read, 10,000 items to parse and rows to insert: unbounded parallel ones let one tenant take the event
 * loop and the pool from everyone else. 4 leaves room for a backend sending from a few workers at once
 * (a wire-compatible client must not start failing after switching to us); 1 is the strictest share.
 *
 * A request holds its account's slot from when the account is known (a token in the query string or
 * header: before the body is read; a token inside datajson: once that is parsed) until both its answer
 * has gone (or its connection closed) and its handler is done: a client that leaves does not free the
 * slot while its rows are still being inserted.
 */
@Injectable()
export class BulkGate {
  private readonly running = new Map<number, number>();
  private readonly held = new WeakMap<object, Slot[]>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Takes (or joins) this request's slot of the account; the returned function lets go, once. */
  hold(request: FastifyRequest, accountId: number): () => void {
    const slots = this.held.get(request.raw) ?? [];
    let slot = slots.find((s) => s.accountId === accountId && s.holders > 0);
    if (slot === undefined) {
      slot = { accountId, holders: 0 };
      this.enter(accountId);
      slots.push(slot);
      this.held.set(request.raw, slots);
    }
    slot.holders++;
    const taken = slot;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--taken.holders === 0) this.leave(taken.accountId);
    };
  }

  /** Requests of the account holding a slot now. */
  runningFor(accountId: number): number {
    return this.running.get(accountId) ?? 0;
  }

  private enter(accountId: number): void {
    const limit = this.config.api.bulksPerAccount;
    const running = this.runningFor(accountId);
    if (running >= limit)
      throw new ApiError(
        'rate_limited',
        `at most ${limit} addalotofsms of one account at a time; retry when the previous one has answered`,
        undefined,
        Math.ceil(BULK_ANSWER_BUDGET_MS / 1_000),
      );
    this.running.set(accountId, running + 1);
  }

  private leave(accountId: number): void {
    const left = this.runningFor(accountId) - 1;
    if (left <= 0) this.running.delete(accountId);
    else this.running.set(accountId, left);
  }
}

/**
 * A bulk whose token is outside its body takes its account's slot before the body is read: a second one
 * is refused without reading or parsing anything (its connection is closed after the answer). The slot is
 * held until the answer has gone or the connection closed (a timeout, an abort), whatever ran in between.
 */
export function gateBulksBeforeTheirBodies(
  fastify: FastifyInstance,
  options: {
    routes: ReadonlySet<string>;
    gate: BulkGate;
    callers: CallerBeforeBody;
  },
): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (!options.routes.has(request.routeOptions.url ?? '')) return;
    const account = await options.callers.of(request);
    if (!account) return;
    let release: () => void;
    try {
      release = options.gate.hold(request, account.id);
    } catch (error) {
      void reply.header('connection', 'close');
      throw error;
    }
    // 'close' comes after the answer has been written, or when the connection went first.
    reply.raw.once('close', release);
  });
}
