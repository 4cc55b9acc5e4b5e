import { percentile } from '../bench/stats';

/** One tenant as the load sees it: its token and the phones its messages go to. */
export interface LoadTenant {
  token: string;
  deviceIds: number[];
}

interface SoakRequest {
  method: 'addalotofsms' | 'addsms';
  key: string;
  body: string;
  messages: number;
  firstSentAt: number;
}

/** One client ledger line (docs/reliability.md): what was answered, with the key for people to read. */
export interface ClientRecord {
  status: number;
  ids: number[];
  key: string;
}

export interface LoadFigures {
  offeredMessages: number;
  /** Due on the clock but never offered: the in-flight cap was reached (the system was saturated). */
  notOfferedSaturated: number;
  /** Offered more than a second after they were due: held back while saturated, sent once answers came. */
  offeredLate: number;
  requests: number;
  acceptedMessages: number;
  acceptedRequests: number;
  /** Requests answered 200 with `error:1` (refused): none are expected. */
  refused: number;
  /** Attempts answered 5xx or lost on the network, then retried with the same key. */
  retries: number;
  /** Requests still unanswered when the load gave up on them (their outcome is unknown). */
  abandoned: number;
  /** First send of a request → its 2xx, retries included (ms). */
  acceptP50Ms: number;
  acceptP99Ms: number;
}

const ATTEMPT_TIMEOUT_MS = 30_000;
const BACKOFF_MS = [200, 500, 1_000, 2_000];

/**
 * Open-loop load at a target rate of messages (not requests): requests are started on a clock whatever the
 * answers do, up to `maxInFlight` outstanding requests (a saturated system would otherwise drown in them). The mix, by messages: 70 % in bulks (`addalotofsms`), 20 % in 10-recipient `addsms`, 10 %
 * single `addsms`, 5 % urgent. Every request carries an Idempotency-Key and is retried with the same key
 * and the very same body after a 5xx or a network error, until answered.
 */
export class SoakLoad {
  readonly ledger: ClientRecord[] = [];
  /** Start time of the latest attempt of each request answered 2xx, and when it was answered. */
  readonly answers: Array<{ attemptAt: number; answeredAt: number }> = [];
  private readonly latencies: number[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private offered = 0;
  /** Messages due on the clock but not offered because `maxInFlight` requests were outstanding. */
  private missed = 0;
  private late = 0;
  private requestCount = 0;
  private refused = 0;
  private retries = 0;
  private abandoned = 0;
  private accepted = 0;
  private giveUpAt = Infinity;
  private readonly bulkSize: number;
  private cycle: Array<'bulk' | 'multi' | 'single'> = [];

  constructor(
    private readonly apiUrl: string,
    private readonly tenants: LoadTenant[],
    private readonly rate: number,
    private readonly runId: string,
    /** Open loop up to this many outstanding requests; beyond, the system is saturated and load waits. */
    private readonly maxInFlight = 512,
    /**
     * Messages that could not be offered while saturated are offered as soon as answers come back (as a
     * client with its own queue does after an outage); false: what falls over a second behind is dropped.
     */
    private readonly catchUp = true,
  ) {
    // Bulks of 100 at 2,000 msg/s; smaller at low rates, so that a short run still sees the whole mix.
    this.bulkSize = 10 * Math.min(10, Math.max(2, Math.round(rate / 200)));
  }

  get acceptedMessages(): number {
    return this.accepted;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Offers load for `durationMs`, and beyond while `continueWhile()` says so; resolves with how long it
   * offered (answers may still be outstanding).
   */
  async offer(durationMs: number, continueWhile: () => boolean = () => false): Promise<number> {
    const started = Date.now();
    const end = started + durationMs;
    const dueNow = () => Math.floor(((Date.now() - started) / 1_000) * this.rate);
    while (Date.now() < end || continueWhile()) {
      const due = dueNow();
      // Saturated (the cap is reached) without catching up: what falls more than a second behind is not
      // offered at all, so that the shortfall shows as a lower offered rate instead of a burst later.
      if (!this.catchUp && this.offered + this.missed < due - this.rate)
        this.missed = due - this.rate - this.offered;
      while (this.offered + this.missed < due && this.inFlight.size < this.maxInFlight) {
        const behind = this.offered + this.missed < due - this.rate;
        const request = this.next();
        if (behind) this.late += request.messages;
        this.start(request);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // A backlog the load could not offer before its end counts as not offered.
    this.missed = Math.max(this.missed, dueNow() - this.offered);
    return Date.now() - started;
  }

  /** Waits for every request to be answered, retrying for at most `timeoutMs`; the rest count as abandoned. */
  async drain(timeoutMs: number): Promise<void> {
    this.giveUpAt = Date.now() + timeoutMs;
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  figures(): LoadFigures {
    return {
      offeredMessages: this.offered,
      notOfferedSaturated: this.missed,
      offeredLate: this.late,
      requests: this.requestCount,
      acceptedMessages: this.accepted,
      acceptedRequests: this.ledger.length,
      refused: this.refused,
      retries: this.retries,
      abandoned: this.abandoned,
      acceptP50Ms: percentile(this.latencies, 50),
      acceptP99Ms: percentile(this.latencies, 99),
    };
  }

  private start(request: SoakRequest): void {
    this.offered += request.messages;
    this.requestCount++;
    const running: Promise<void> = this.send(request).finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  private async send(request: SoakRequest): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const attemptAt = Date.now();
      try {
        const response = await fetch(`${this.apiUrl}/getdata/${request.method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': request.key },
          body: request.body,
          signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        });
        const text = await response.text();
        if (response.status < 500) {
          const answer = JSON.parse(text) as {
            error: number;
            code?: string;
            sms_id?: number;
            sms_ids?: number[];
          };
          // More of one tenant's bulks at once than the api takes (API_BULK_CONCURRENCY_PER_ACCOUNT):
          // nothing was stored; a client waits as told and sends the same request again.
          if (answer.code === 'rate_limited' && response.headers.has('retry-after')) {
            this.retries++;
            await new Promise((resolve) =>
              setTimeout(resolve, Number(response.headers.get('retry-after')) * 1_000),
            );
            continue;
          }
          if (answer.error !== 0 || response.status >= 300) {
            this.refused++;
            console.error(`refused (${response.status}): ${text.slice(0, 200)}`);
            return;
          }
          const ids = answer.sms_ids ?? [answer.sms_id as number];
          this.ledger.push({ status: response.status, ids, key: request.key });
          this.accepted += ids.length;
          const answeredAt = Date.now();
          this.answers.push({ attemptAt, answeredAt });
          this.latencies.push(answeredAt - request.firstSentAt);
          return;
        }
      } catch {
        // connection refused or reset, or no answer in time: the outcome is unknown, so retry the same key
      }
      if (Date.now() > this.giveUpAt) {
        this.abandoned++;
        return;
      }
      this.retries++;
      await new Promise((resolve) =>
        setTimeout(resolve, BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]),
      );
    }
  }

  /** The next request of the mix, for a random tenant and random phones of it. */
  private next(): SoakRequest {
    if (this.cycle.length === 0) this.cycle = this.mixCycle();
    const kind = this.cycle.pop() as 'bulk' | 'multi' | 'single';
    const tenant = this.tenants[this.requestCount % this.tenants.length];
    const key = `soak-${this.runId}-${this.requestCount}`;
    const n = this.requestCount;
    const device = () => tenant.deviceIds[Math.floor(Math.random() * tenant.deviceIds.length)];
    const urgent = () => (Math.random() < 0.05 ? 1 : 0);
    const number = (k: number) => `+4915${String((n * 100 + k) % 1e9).padStart(9, '0')}`;
    const request = (method: SoakRequest['method'], messages: number, body: object): SoakRequest => ({
      method,
      key,
      messages,
      firstSentAt: Date.now(),
      body: JSON.stringify({ token: tenant.token, ...body }),
    });
    if (kind === 'bulk') {
      const smsdata = Array.from({ length: this.bulkSize }, (_, k) => ({
        sendto: number(k),
        body: `soak bulk ${n}/${k}`,
        device_id: device(),
        urgent: urgent(),
      }));
      return request('addalotofsms', this.bulkSize, { smsdata });
    }
    const recipients = kind === 'multi' ? 10 : 1;
    return request('addsms', recipients, {
      sendto: Array.from({ length: recipients }, (_, k) => number(k)).join(','),
      body: `soak ${kind} ${n}`,
      device_id: device(),
      urgent: urgent(),
    });
  }

  /** One shuffled cycle of 10 × bulk size messages: 70 % in bulks, 20 % in multi-recipient, 10 % single. */
  private mixCycle(): Array<'bulk' | 'multi' | 'single'> {
    const b = this.bulkSize;
    const cycle: Array<'bulk' | 'multi' | 'single'> = [
      ...Array<'bulk'>(7).fill('bulk'),
      ...Array<'multi'>((2 * b) / 10).fill('multi'),
      ...Array<'single'>(b).fill('single'),
    ];
    for (let i = cycle.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [cycle[i], cycle[j]] = [cycle[j], cycle[i]];
    }
    return cycle;
  }
}
