import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import {
  AT_PHONE_STATUSES,
  DeviceQueue,
  isSendHours,
  isSimQuotas,
  isWithinSendHours,
  QUOTA_PERIODS,
  quotaOfSlot,
  quotaWindows,
  quotaZoneOf,
  SimSlot,
  FAILURE_STATUSES,
  MessageStatus,
  NO_REPORT_SENT_ERROR,
  NON_FINAL_STATUSES,
  WAITING_STATUSES,
} from '@smsfleet/contracts';
import { statusIn, statusIs, statusIsNot } from '@smsfleet/persistence';
import { DeviceQueues, RedisConnections } from '@smsfleet/queueing';

/** One invariant of docs/reliability.md with the counts it was decided on, and a few offending ids. */
export interface InvariantResult {
  id: 'L1' | 'L3' | 'L4' | 'L5' | 'L6' | 'L7' | 'L8' | 'L9' | 'L10' | 'L11' | 'L12' | 'L13';
  title: string;
  holds: boolean;
  counts: Record<string, number>;
  /** Up to 20 offending message ids (or device ids for L7), to start an investigation with. */
  examples: number[];
}

/** The client ledger: what the API answered to each request. */
export interface ClientLedgerEntry {
  status: number;
  ids: number[];
}

/**
 * The phone ledger, summarised: real sends per message id, `sms` events received, and the status reports
 * the server acknowledged as (message id, status) pairs (absent in ledgers written before L9).
 */
export interface PhoneLedgerSummary {
  sends: ReadonlyMap<number, number>;
  received: number;
  repeats: number;
  acked?: ReadonlyArray<readonly [number, number]>;
  /**
   * Message id → the devices whose phones received its `sms` event (L13); only the received lines that
   * name their device (ledgers written before L13 do not).
   */
  receivers?: ReadonlyMap<number, ReadonlySet<number>>;
}

export interface InvariantCheckOptions {
  /** After a run has settled: every accepted message must be final. Otherwise only overdue ones count. */
  settled?: boolean;
  /** Slack past a message's deadlines before it counts as overdue (the expiry job runs periodically). */
  marginSeconds?: number;
  clientLedger?: ClientLedgerEntry[];
  phoneLedger?: PhoneLedgerSummary;
}

const EXAMPLES = 20;
/** Outgoing messages only: Income rows are received SMS. */
const OUTGOING = statusIsNot(MessageStatus.Income);
const NON_FINAL = statusIn(NON_FINAL_STATUSES);
/** A newsletter whose time has come and whose messages the scheduler has not made yet. */
const NEWSLETTER_DUE = `expanded_at IS NULL AND time_to_send <= now()`;
/** Accepted work not done yet, in one number `n`: what L3 demands to be zero in a settled run. */
export const UNSETTLED_WORK_SQL = `SELECT ((SELECT count(*) FROM messages WHERE ${NON_FINAL})
  + (SELECT count(*) FROM newsletters WHERE ${NEWSLETTER_DUE}))::int AS n`;
/** Waiting beyond validity, or taken/sent without a report beyond the report timeout ($1 margin, $2 timeout). */
const OVERDUE = `((${statusIn(WAITING_STATUSES)} AND valid_until < now() - make_interval(secs => $1))
  OR (${statusIn(AT_PHONE_STATUSES)} AND COALESCE(sent_at, taken_at, updated_at)
        < now() - make_interval(secs => $2 + $1)))`;

/** Failure statuses that do not claim "not sent": 8 (sent, not delivered) and 203 (no report in time). */
const SENT_FAILURES: readonly number[] = [MessageStatus.NotDelivered, MessageStatus.NoReport];
const FAILURES = statusIn(FAILURE_STATUSES);
/** The statuses a webhook event reports (New and Queued are not news; Income is the incoming SMS). */
const WEBHOOK_STATUSES = [
  MessageStatus.TakenFromServer,
  MessageStatus.SentByPhone,
  MessageStatus.Delivered,
  ...FAILURE_STATUSES,
];

/** Failures other than Expired, which L7 counts apart. */
const NOT_EXPIRED_FAILURES = FAILURE_STATUSES.filter((status) => status !== MessageStatus.Expired);
/** Sent by the phone, or delivered: the message left through the radio. */
const SENT_STATUSES = [MessageStatus.SentByPhone, MessageStatus.Delivered];

/**
 * Computes the invariants from PostgreSQL and Redis (L3, L6, L7, L10, L11, L12 always; L1 with a client ledger; L4, L5,
 * L8, L9 and L13 with a phone ledger). Read-only: usable on a live system after an incident, and by the tests.
 */
@Injectable()
export class InvariantChecker {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queues: DeviceQueues,
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(options: InvariantCheckOptions = {}): Promise<InvariantResult[]> {
    const results = [await this.l3(options), await this.l6(), await this.l7(options)];
    if (options.clientLedger) results.unshift(await this.l1(options.clientLedger));
    if (options.phoneLedger)
      results.push(
        await this.l4(options.phoneLedger),
        await this.l5(options.phoneLedger),
        this.l8(options.phoneLedger),
        await this.l9(options.phoneLedger, options),
        l13Of(options.phoneLedger),
      );
    results.push(await this.l10(options), await this.l11(), await this.l12());
    return results;
  }

  /**
   * L11: no SIM slot of a device with quotas took more messages in an hour, day or month of the device's
   * zone (its send hours' zone, else UTC) than its quota allows, judged from `taken_at` against the
   * device's current quotas and zone (ADR 2201). A message is
   * counted when it is emitted and recorded when its ack arrives: one emitted in the last ack timeout of
   * a period may be recorded in the next, so that much of the next period is read as the previous one.
   */
  private async l11(): Promise<InvariantResult> {
    const devices: Array<{ id: number; sim_quotas: unknown; send_hours: unknown }> = await this.db.query(
      `SELECT id, sim_quotas, send_hours FROM devices WHERE sim_quotas IS NOT NULL`,
    );
    const counts = { devices: 0, periods: 0, overQuota: 0 };
    const examples: number[] = [];
    const graceMs = this.config.dispatcher.ackTimeoutMs;
    for (const device of devices) {
      if (!isSimQuotas(device.sim_quotas)) continue;
      counts.devices++;
      const zone = quotaZoneOf(isSendHours(device.send_hours) ? device.send_hours : null);
      const rows: Array<{ sim: number; at: Date }> = await this.db.query(
        `SELECT sim, taken_at AS at FROM messages WHERE device_id = $1 AND taken_at IS NOT NULL`,
        [device.id],
      );
      const used = new Map<string, number>();
      for (const row of rows) {
        const quota = quotaOfSlot(device.sim_quotas, row.sim as SimSlot);
        if (!quota) continue;
        const windows = quotaWindows(row.at.getTime() - graceMs, zone);
        for (const period of QUOTA_PERIODS) {
          const limit = quota[period];
          if (limit === undefined) continue;
          const key = `${row.sim}:${windows[period].id}`;
          const n = (used.get(key) ?? 0) + 1;
          used.set(key, n);
          if (n === limit + 1) {
            counts.overQuota++;
            if (examples.length < EXAMPLES) examples.push(device.id);
          }
        }
      }
      counts.periods += used.size;
    }
    return {
      id: 'L11',
      title: 'no SIM slot took more than its quota in an hour, day or month',
      holds: counts.overQuota === 0,
      counts,
      examples,
    };
  }

  /**
   * L12: no message of a device with send hours was taken outside them (urgent ones excepted where the
   * hours let them through), judged from `taken_at` against the device's current hours: a message
   * emitted inside them is acknowledged up to an ack timeout later, so that much after a closing counts
   * as inside.
   */
  private async l12(): Promise<InvariantResult> {
    const devices: Array<{ id: number; send_hours: unknown }> = await this.db.query(
      `SELECT id, send_hours FROM devices WHERE send_hours IS NOT NULL`,
    );
    const counts = { devices: 0, taken: 0, outside: 0 };
    const examples: number[] = [];
    const graceMs = this.config.dispatcher.ackTimeoutMs;
    for (const device of devices) {
      const hours = device.send_hours;
      if (!isSendHours(hours)) continue;
      counts.devices++;
      const rows: Array<{ id: string; urgent: boolean; at: Date }> = await this.db.query(
        `SELECT id, urgent, taken_at AS at FROM messages WHERE device_id = $1 AND taken_at IS NOT NULL`,
        [device.id],
      );
      for (const row of rows) {
        counts.taken++;
        if (hours.urgent && row.urgent) continue;
        const at = row.at.getTime();
        if (isWithinSendHours(hours, at) || isWithinSendHours(hours, at - graceMs)) continue;
        counts.outside++;
        if (examples.length < EXAMPLES) examples.push(Number(row.id));
      }
    }
    return {
      id: 'L12',
      title: 'no message was taken outside its phone’s send hours',
      holds: counts.outside === 0,
      counts,
      examples,
    };
  }

  /**
   * L10: every status change in the history (and every incoming SMS) of an account has its event at
   * every matching active subscription that existed before the change: a delivery exists (live), and is
   * delivered, or given up with its reason (settled). The event is found by message, type and the
   * status it reports.
   */
  private async l10(options: InvariantCheckOptions): Promise<InvariantResult> {
    const rows: Array<Record<string, string>> = await this.db.query(
      `WITH changes AS (
         SELECT e.message_id, e.status, e.recorded_at AS at, m.user_id, m.device_id
           FROM message_events e JOIN messages m ON m.id = e.message_id
          WHERE ${statusIn(WEBHOOK_STATUSES, 'e.status')}
         UNION ALL
         SELECT id, status, created_at, user_id, device_id FROM messages WHERE ${statusIs(MessageStatus.Income)}
       ),
       expected AS (
         SELECT c.message_id, c.status, w.id AS webhook_id,
                CASE c.status WHEN ${MessageStatus.TakenFromServer} THEN 'message.taken'
                              WHEN ${MessageStatus.SentByPhone} THEN 'message.sent'
                              WHEN ${MessageStatus.Delivered} THEN 'message.delivered'
                              WHEN ${MessageStatus.Income} THEN 'message.incoming'
                              ELSE 'message.failed' END AS type,
                w.events
           FROM changes c
           JOIN webhooks w ON w.user_id = c.user_id AND w.created_at < c.at
                          AND NOT w.paused AND w.disabled_at IS NULL
                          AND (w.device_ids IS NULL OR c.device_id = ANY (w.device_ids))
       ),
       judged AS (
         SELECT x.message_id, d.status AS delivery, d.last_error
           FROM expected x
           LEFT JOIN LATERAL (
             SELECT d.status, d.last_error
               FROM webhook_events ev
               JOIN webhook_deliveries d ON d.event_id = ev.id AND d.webhook_id = x.webhook_id
              WHERE ev.message_id = x.message_id AND ev.type = x.type
                AND (ev.payload -> 'data' ->> 'status')::int = x.status
              LIMIT 1) d ON true
          WHERE x.type = ANY (x.events)
       )
       SELECT count(*) AS expected,
              count(*) FILTER (WHERE delivery = 'delivered') AS delivered,
              count(*) FILTER (WHERE delivery = 'dead' AND last_error IS NOT NULL) AS "deadWithReason",
              count(*) FILTER (WHERE delivery = 'dead' AND last_error IS NULL) AS "deadWithoutReason",
              count(*) FILTER (WHERE delivery IN ('pending', 'failed')) AS pending,
              count(*) FILTER (WHERE delivery IS NULL) AS missing,
              (array_agg(DISTINCT message_id) FILTER (WHERE delivery IS NULL OR delivery NOT IN ('delivered', 'dead')
                                                        OR (delivery = 'dead' AND last_error IS NULL)))[1:${EXAMPLES}]
                AS examples
         FROM judged`,
    );
    const { examples, ...counts } = rows[0] as Record<string, unknown>;
    const numbers = numeric(counts as Record<string, string>);
    return {
      id: 'L10',
      title: 'every status change has its webhook event at every matching subscription',
      holds: options.settled
        ? numbers.missing === 0 && numbers.pending === 0 && numbers.deadWithoutReason === 0
        : numbers.missing === 0,
      counts: numbers,
      examples: ((examples as string[] | null) ?? []).map(Number),
    };
  }

  /** L1: every id the API returned with a 2xx exists in the database. */
  private async l1(ledger: ClientLedgerEntry[]): Promise<InvariantResult> {
    const ids = [...new Set(ledger.filter((e) => e.status >= 200 && e.status < 300).flatMap((e) => e.ids))];
    const found = new Set<number>();
    for (let start = 0; start < ids.length; start += 10_000) {
      const rows: Array<{ id: string }> = await this.db.query(
        `SELECT id FROM messages WHERE id = ANY($1::bigint[])`,
        [ids.slice(start, start + 10_000)],
      );
      for (const row of rows) found.add(Number(row.id));
    }
    const missing = ids.filter((id) => !found.has(id));
    return {
      id: 'L1',
      title: 'every id answered with a 2xx exists',
      holds: missing.length === 0,
      counts: { requests: ledger.length, idsAnswered: ids.length, missing: missing.length },
      examples: missing.slice(0, EXAMPLES),
    };
  }

  /**
   * L3: every accepted message is final. Settled: none may be left non-final. Live: none may be past its
   * deadline (waiting beyond its validity, or taken/sent beyond the report timeout) plus the margin.
   * A due newsletter not yet expanded is accepted work whose messages do not exist yet: it counts too
   * (settled: any; live: due for longer than the margin), or a run could look settled a moment before
   * its messages appear.
   */
  private async l3(options: InvariantCheckOptions): Promise<InvariantResult> {
    const margin = options.marginSeconds ?? 60;
    const [counts]: Array<Record<string, string>> = await this.db.query(
      `SELECT count(*) FILTER (WHERE ${OUTGOING}) AS accepted,
              count(*) FILTER (WHERE ${NON_FINAL}) AS "nonFinal",
              count(*) FILTER (WHERE ${NON_FINAL} AND time_to_send > now()) AS "scheduledAhead",
              count(*) FILTER (WHERE ${OVERDUE}) AS overdue,
              (SELECT count(*) FROM newsletters WHERE ${NEWSLETTER_DUE}) AS "newslettersDue",
              (SELECT count(*) FROM newsletters
                WHERE ${NEWSLETTER_DUE} AND time_to_send < now() - make_interval(secs => $1)) AS "newslettersOverdue"
         FROM messages`,
      [margin, this.config.messages.reportTimeoutSeconds],
    );
    const failing = options.settled ? NON_FINAL : OVERDUE;
    const examples: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM messages WHERE ${failing} ORDER BY id LIMIT ${EXAMPLES}`,
      options.settled ? [] : [margin, this.config.messages.reportTimeoutSeconds],
    );
    const numbers = numeric(counts);
    return {
      id: 'L3',
      title: options.settled ? 'every accepted message is final' : 'no accepted message is overdue',
      holds: options.settled
        ? numbers.nonFinal === 0 && numbers.newslettersDue === 0
        : numbers.overdue === 0 && numbers.newslettersOverdue === 0,
      counts: numbers,
      examples: examples.map((row) => Number(row.id)),
    };
  }

  /**
   * L6: no queue residue. A job waiting, prioritised, delayed or active in a device queue must belong to
   * a message of that device that is still waiting for a phone (status 1 or 3) or, if active, held by one.
   */
  private async l6(): Promise<InvariantResult> {
    const devices: Array<{ id: number }> = await this.db.query(`SELECT id FROM devices ORDER BY id`);
    let jobs = 0;
    const residue: number[] = [];
    const reasons = { finalMessage: 0, missingMessage: 0, otherDevice: 0 };
    // Where the residue sits tells its story: active = a lock nobody releases, waiting = nobody fetches.
    const inState = { waiting: 0, active: 0, prioritized: 0, delayed: 0 };
    for (const { id: deviceId } of devices) {
      const queue = this.queues.queue(deviceId);
      const [waiting, active, prioritized, delayed] = await Promise.all([
        this.redis.shared.lrange(queue.toKey('wait'), 0, -1),
        this.redis.shared.lrange(queue.toKey('active'), 0, -1),
        this.redis.shared.zrange(queue.toKey('prioritized'), 0, -1),
        this.redis.shared.zrange(queue.toKey('delayed'), 0, -1),
      ]);
      const stateOf = new Map<string, keyof typeof inState>();
      for (const [state, ids] of [
        ['waiting', waiting],
        ['active', active],
        ['prioritized', prioritized],
        ['delayed', delayed],
      ] as const)
        for (const id of ids) stateOf.set(id, state);
      const jobIds = [...stateOf.keys()].filter((id) => /^m\d+$/.test(id));
      jobs += jobIds.length;
      if (jobIds.length === 0) continue;
      const rows: Array<{ id: string; device_id: number; status: number }> = await this.db.query(
        `SELECT id, device_id, status FROM messages WHERE id = ANY($1::bigint[])`,
        [jobIds.map((jobId) => DeviceQueue.messageIdOf(jobId))],
      );
      const byId = new Map(rows.map((row) => [Number(row.id), row]));
      for (const jobId of jobIds) {
        const messageId = DeviceQueue.messageIdOf(jobId);
        const row = byId.get(messageId);
        const reason = !row
          ? 'missingMessage'
          : row.device_id !== deviceId
            ? 'otherDevice'
            : [1, 2, 3, 6].includes(row.status)
              ? undefined
              : 'finalMessage';
        if (reason === undefined) continue;
        reasons[reason]++;
        inState[stateOf.get(jobId) as keyof typeof inState]++;
        residue.push(messageId);
      }
    }
    return {
      id: 'L6',
      title: 'no queue residue',
      holds: residue.length === 0,
      counts: {
        devices: devices.length,
        jobs,
        residue: residue.length,
        ...reasons,
        residueWaiting: inState.waiting,
        residueActive: inState.active,
        residuePrioritized: inState.prioritized,
        residueDelayed: inState.delayed,
      },
      examples: residue.slice(0, EXAMPLES),
    };
  }

  /**
   * L7: per tenant and per device, accepted = delivered + failed + expired (+ still pending, live), and
   * the two database ledgers agree: each final message has the event of its final status.
   */
  private async l7(options: InvariantCheckOptions): Promise<InvariantResult> {
    const groups: Array<Record<string, string | number>> = await this.db.query(
      `SELECT m.user_id, m.device_id,
              count(*) AS accepted,
              count(*) FILTER (WHERE ${statusIs(MessageStatus.Delivered, 'm.status')}) AS delivered,
              count(*) FILTER (WHERE ${statusIn(NOT_EXPIRED_FAILURES, 'm.status')}) AS failed,
              count(*) FILTER (WHERE ${statusIs(MessageStatus.Expired, 'm.status')}) AS expired,
              count(*) FILTER (WHERE ${statusIn(NON_FINAL_STATUSES, 'm.status')}) AS pending,
              count(*) FILTER (WHERE ${statusIn([MessageStatus.Delivered, ...FAILURE_STATUSES], 'm.status')}
                                 AND NOT EXISTS (SELECT 1 FROM message_events e
                                                  WHERE e.message_id = m.id AND e.status = m.status))
                AS "finalWithoutEvent"
         FROM messages m
        WHERE m.${OUTGOING}
        GROUP BY m.user_id, m.device_id
        ORDER BY m.user_id, m.device_id`,
    );
    const summed = ['accepted', 'delivered', 'failed', 'expired', 'pending', 'finalWithoutEvent'];
    const sums: Record<string, number> = { tenants: 0, devices: groups.length, unbalancedDevices: 0 };
    for (const name of summed) sums[name] = 0;
    const badDevices: number[] = [];
    const tenants = new Set<number>();
    for (const group of groups) {
      const g = numeric(group);
      tenants.add(g.user_id);
      for (const name of summed) sums[name] += g[name];
      const accounted = g.delivered + g.failed + g.expired + (options.settled ? 0 : g.pending);
      if (accounted !== g.accepted || g.finalWithoutEvent > 0) {
        sums.unbalancedDevices++;
        badDevices.push(g.device_id);
      }
    }
    sums.tenants = tenants.size;
    return {
      id: 'L7',
      title: 'per tenant and device: accepted = delivered + failed + expired',
      holds: badDevices.length === 0,
      counts: sums,
      examples: badDevices.slice(0, EXAMPLES),
    };
  }

  /** L4: every message sent or delivered went to radio exactly once; nothing went out twice. */
  private async l4(phone: PhoneLedgerSummary): Promise<InvariantResult> {
    const sentRows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM messages WHERE ${statusIn(SENT_STATUSES)}
        UNION SELECT message_id FROM message_events WHERE ${statusIn(SENT_STATUSES)}`,
    );
    const sentIds = sentRows.map((row) => Number(row.id));
    const neverSent = sentIds.filter((id) => (phone.sends.get(id) ?? 0) === 0);
    const twice = [...phone.sends].filter(([, count]) => count > 1).map(([id]) => id);
    return {
      id: 'L4',
      title: 'every message marked sent went to radio exactly once',
      holds: neverSent.length === 0 && twice.length === 0,
      counts: {
        markedSent: sentIds.length,
        sentOnPhones: phone.sends.size,
        markedSentNotOnPhone: neverSent.length,
        sentMoreThanOnce: twice.length,
      },
      examples: [...twice, ...neverSent].slice(0, EXAMPLES),
    };
  }

  /**
   * L5: a failure status means it was really not sent, or says it was: a message the phone ledger shows
   * sent to radio may only fail as 8 (not delivered) or 203 (no report; its reason tells whether "sent"
   * came), never with a code that claims "not sent" (9–101, 201, 202, 204, 205: a cancelled message no phone may have sent).
   */
  private async l5(phone: PhoneLedgerSummary): Promise<InvariantResult> {
    const sentOnPhones = [...phone.sends.keys()];
    const rows: Array<{ id: string; status: number; status_error: string | null }> = [];
    for (let start = 0; start < sentOnPhones.length; start += 10_000) {
      rows.push(
        ...(await this.db.query(
          `SELECT id, status, status_error FROM messages WHERE id = ANY($1::bigint[]) AND ${FAILURES}`,
          [sentOnPhones.slice(start, start + 10_000)],
        )),
      );
    }
    const [{ failed }]: Array<{ failed: string }> = await this.db.query(
      `SELECT count(*) AS failed FROM messages WHERE ${FAILURES}`,
    );
    const claimsNotSent = rows.filter((row) => !SENT_FAILURES.includes(row.status));
    const count = (predicate: (row: (typeof rows)[number]) => boolean) => rows.filter(predicate).length;
    return {
      id: 'L5',
      title: 'a failure status means not sent, or says "sent, no report"',
      holds: claimsNotSent.length === 0,
      counts: {
        failed: Number(failed),
        failedButSentOnPhone: rows.length,
        notDelivered: count((row) => row.status === Number(MessageStatus.NotDelivered)),
        noReportSent: count(
          (row) => row.status === Number(MessageStatus.NoReport) && row.status_error === NO_REPORT_SENT_ERROR,
        ),
        noReportTaken: count(
          (row) => row.status === Number(MessageStatus.NoReport) && row.status_error !== NO_REPORT_SENT_ERROR,
        ),
        claimsNotSent: claimsNotSent.length,
      },
      examples: claimsNotSent.map((row) => Number(row.id)).slice(0, EXAMPLES),
    };
  }

  /** L9: every status report acknowledged to a phone is in PostgreSQL (see l9Of). */
  private l9(phone: PhoneLedgerSummary, options: InvariantCheckOptions): Promise<InvariantResult> {
    return l9Of(this.db, phone, options);
  }

  /** L8: the raw redelivery rate is reported (it holds as long as it is shown). */
  private l8(phone: PhoneLedgerSummary): InvariantResult {
    const unique = phone.received - phone.repeats;
    return {
      id: 'L8',
      title: 'redelivery rate reported',
      holds: true,
      counts: {
        received: phone.received,
        repeats: phone.repeats,
        uniqueIds: unique,
        redeliveryPerMille: unique === 0 ? 0 : Math.round((phone.repeats / unique) * 1_000),
      },
      examples: [],
    };
  }
}

/**
 * L9: every status report acknowledged to a phone is in PostgreSQL (ADR 1801): its (message, status) is in
 * the history, or it was dead-lettered (refused by PostgreSQL on its own, ADR 1601), or — live only — it
 * waits in the status inbox. Settled, the inbox must have been applied.
 */
async function l9Of(
  db: DataSource,
  phone: PhoneLedgerSummary,
  options: InvariantCheckOptions,
): Promise<InvariantResult> {
  const pairs = [
    ...new Map((phone.acked ?? []).map(([id, status]) => [`${id}:${status}`, [id, status]])).values(),
  ];
  let inHistory = 0;
  let inInbox = 0;
  let deadLettered = 0;
  const missing: number[] = [];
  for (let start = 0; start < pairs.length; start += 10_000) {
    const chunk = pairs.slice(start, start + 10_000);
    const rows: Array<{ id: string; history: boolean; inbox: boolean; dead: boolean }> = await db.query(
      `SELECT v.id,
              EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = v.id AND e.status = v.status) AS history,
              EXISTS (SELECT 1 FROM status_inbox i WHERE i.message_id = v.id AND i.status = v.status) AS inbox,
              EXISTS (SELECT 1 FROM dead_letters d
                       WHERE d.kind = 'status' AND d.payload->>'messageId' = v.id::text
                         AND d.payload->>'status' = v.status::text) AS dead
         FROM unnest($1::bigint[], $2::int[]) AS v(id, status)`,
      [chunk.map(([id]) => id), chunk.map(([, status]) => status)],
    );
    for (const row of rows) {
      if (row.history) inHistory++;
      else if (row.dead) deadLettered++;
      else if (row.inbox && !options.settled) inInbox++;
      else missing.push(Number(row.id));
    }
  }
  return {
    id: 'L9',
    title: 'every status report acknowledged to a phone is in PostgreSQL',
    holds: missing.length === 0,
    counts: { acknowledged: pairs.length, inHistory, deadLettered, inInbox, missing: missing.length },
    examples: [...new Set(missing)].slice(0, EXAMPLES),
  };
}

function numeric(row: Record<string, string | number>): Record<string, number> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)]));
}

/**
 * L13: no message reached two phones (ADR 2221 §8). Stronger than L4, which counts sends to radio: a pool
 * move of a message some phone had already been sent, sent or not, shows here as one id received by two
 * devices. Pinned messages hold it trivially (one queue, one phone). Judged from the phone ledger alone;
 * received lines without their device (older ledgers) are counted apart and judge nothing.
 */
export function l13Of(phone: PhoneLedgerSummary): InvariantResult {
  const receivers = phone.receivers ?? new Map<number, ReadonlySet<number>>();
  const twice = [...receivers].filter(([, devices]) => devices.size > 1).map(([id]) => id);
  let withDevice = 0;
  for (const devices of receivers.values()) if (devices.size > 0) withDevice++;
  return {
    id: 'L13',
    title: 'no message received by two phones',
    holds: twice.length === 0,
    counts: { idsWithDevice: withDevice, receivedByTwoPhones: twice.length },
    examples: twice.slice(0, EXAMPLES),
  };
}
