import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import {
  deviceLastSeenKey,
  devicePresenceKey,
  DeviceQueue,
  isSendHours,
  isSimQuotas,
  poolMovingKey,
  QUOTA_PERIODS,
  quotaOfSlot,
  quotaWindows,
  quotaZoneOf,
  SendHours,
  SIM_SLOTS,
  SimQuotas,
  SimSlot,
} from '@smsfleet/contracts';
import { poolMemberRules } from '@smsfleet/persistence';
import { RedisConnections } from '../redis-connections';
import { SimQuotaCounters } from '../sim-quota-counters';
import { choosePoolDevices, PoolMemberState, PoolRouteRequest, QuotaPeriodUse } from './pool-choice';
import { PoolChangedSignal } from './pool-changed-signal';
import { POOL_STATE_SCRIPT } from './pool-state-script';

/** Members are read from PostgreSQL at most this often per pool and process (and at once after a change). */
export const POOL_MEMBERS_CACHE_MS = 1_000;

/** A member's rules, as PostgreSQL has them. */
interface MemberRules {
  deviceId: number;
  sendSlots: SimSlot[];
  sendHours?: SendHours;
  simQuotas?: SimQuotas;
  lastSeenAtMs: number | null;
}

/** A waiting row of a pool the outbox sweep routes again (ADR 2221 §5). */
export interface PoolRerouteRow extends PoolRouteRequest {
  messageId: number;
  /** The device its row names now. */
  deviceId: number;
}

/**
 * Chooses the phone of a pool each message goes to (ADR 2221 §3): one read of the members (cached) and
 * one Redis script for their live state per batch, then a choice in process.
 */
@Injectable()
export class PoolRouter {
  private readonly logger = new Logger(PoolRouter.name);
  private readonly members = new Map<number, { at: number; rules: Promise<MemberRules[]> }>();
  private subscribed = false;
  /** Starts anywhere: concurrent replicas do not all break ties towards the same phone. */
  private rotation = Math.floor(Math.random() * 1_000_000);
  /**
   * Per device, messages this process routed with `hold` whose jobs are not in its queue yet (the API
   * inserts rows between choice and add): counted in its load, or concurrent requests, reading the same
   * queue lengths, all pile onto the members that looked idle (ADR 2221 §3).
   */
  private readonly inFlight = new Map<number, number>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly redis: RedisConnections,
    private readonly quotaCounters: SimQuotaCounters,
    private readonly signal: PoolChangedSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Members (cached ≤1 s, dropped on pool-changed) and their live state in one Redis script call. */
  async readState(poolId: number): Promise<PoolMemberState[]> {
    return (await this.read(poolId, [])).states;
  }

  /**
   * One device id per request, in order; never a device in `excluded` (the mover passes draining members);
   * null when no member is left (or none can send the request's slot). Loads count what is in flight;
   * `hold` puts this choice in flight too, until the caller passes the devices to `release` (its jobs added
   * or given up).
   */
  async route(
    poolId: number,
    requests: readonly PoolRouteRequest[],
    options: { excluded?: ReadonlySet<number>; state?: PoolMemberState[]; hold?: boolean } = {},
  ): Promise<Array<number | null>> {
    if (requests.length === 0) return [];
    const state = options.state ?? (await this.readState(poolId));
    const withInFlight = state.map((member) => {
      const inFlight = this.inFlight.get(member.deviceId);
      return inFlight ? { ...member, load: member.load + inFlight } : member;
    });
    const chosen = choosePoolDevices(withInFlight, requests, {
      excluded: options.excluded,
      now: Date.now(),
      tieBreak: () => this.rotation++,
    });
    // Same tick as the choice: a concurrent request's choice already sees it.
    if (options.hold) for (const deviceId of chosen) if (deviceId !== null) this.addInFlight(deviceId, 1);
    return chosen;
  }

  /** Takes held messages out of flight (one entry per message): their jobs are in their queues, or never will be. */
  release(deviceIds: Iterable<number>): void {
    for (const deviceId of deviceIds) this.addInFlight(deviceId, -1);
  }

  private addInFlight(deviceId: number, count: number): void {
    const total = (this.inFlight.get(deviceId) ?? 0) + count;
    if (total > 0) this.inFlight.set(deviceId, total);
    else this.inFlight.delete(deviceId);
  }

  /**
   * Routes waiting rows of one pool again (the outbox sweep, §5): a row whose job exists in the queue its
   * row names (the API's add landed, its mark did not; or the phone finished it and its report is on its
   * way) keeps its device, so the sweep's add is a no-op there rather than a second job elsewhere; a device
   * whose queue holds a tombstone of the message is never chosen for it (the add would be swallowed).
   * A row with no member to go to keeps its device; one fenced off from every member it could go to
   * answers null: not now (the sweep leaves it in the outbox until the tombstone is gone).
   */
  async reroute(poolId: number, rows: readonly PoolRerouteRow[]): Promise<Array<number | null>> {
    if (rows.length === 0) return [];
    const { states, rowFacts } = await this.read(poolId, rows);
    const now = Date.now();
    const tieBreak = () => this.rotation++;
    const targets: Array<number | null> = rows.map((row) => row.deviceId);
    // Rows free to go anywhere are chosen as one batch; the few a move in progress fences off, one by one.
    const free: number[] = [];
    rows.forEach((row, index) => {
      const facts = rowFacts[index];
      if (facts.job === 'job') return;
      const fenced = new Set<number>();
      if (facts.job === 'tombstone') fenced.add(row.deviceId);
      if (facts.tombstonedOn !== null) fenced.add(facts.tombstonedOn);
      if (fenced.size === 0) {
        free.push(index);
        return;
      }
      [targets[index]] = choosePoolDevices(states, [row], { excluded: fenced, now, tieBreak });
    });
    const chosen = choosePoolDevices(
      states,
      free.map((index) => rows[index]),
      { now, tieBreak },
    );
    free.forEach((index, i) => {
      const target = chosen[i];
      if (target !== null) targets[index] = target;
    });
    return targets;
  }

  private async read(
    poolId: number,
    rows: readonly PoolRerouteRow[],
  ): Promise<{ states: PoolMemberState[]; rowFacts: RowFacts[] }> {
    const members = await this.membersOf(poolId);
    const now = Date.now();
    const prefix = this.config.redisPrefix;
    const queueKey = (deviceId: number, part: string) => `${prefix}:${DeviceQueue.name(deviceId)}:${part}`;
    const keys: string[] = [];
    const quotaCounts: number[] = [];
    // Once per zone and only for members with a quota: luxon's zone arithmetic per member of every pool of
    // every request was the API's largest CPU cost in `dispatch-pools` (ADR 2221 §9).
    const windowsByZone = new Map<string, ReturnType<typeof quotaWindows>>();
    const windowsIn = (zone: string) => {
      let windows = windowsByZone.get(zone);
      if (!windows) windowsByZone.set(zone, (windows = quotaWindows(now, zone)));
      return windows;
    };
    // Per member, the counters read: which slot and period each is, with its limit.
    const layouts = members.map((member) => {
      keys.push(
        devicePresenceKey(prefix, member.deviceId),
        deviceLastSeenKey(prefix, member.deviceId),
        queueKey(member.deviceId, 'wait'),
        queueKey(member.deviceId, 'prioritized'),
        queueKey(member.deviceId, 'active'),
        queueKey(member.deviceId, 'delayed'),
      );
      const counters: Array<{ slot: SimSlot; limit: number; endsAt: number }> = [];
      for (const slot of member.sendSlots) {
        const quota = quotaOfSlot(member.simQuotas, slot);
        if (!quota) continue;
        const windows = windowsIn(quotaZoneOf(member.sendHours));
        for (const period of QUOTA_PERIODS) {
          const limit = quota[period];
          if (limit === undefined) continue;
          keys.push(this.quotaCounters.key(member.deviceId, slot, windows[period].id));
          counters.push({ slot, limit, endsAt: windows[period].end });
        }
      }
      quotaCounts.push(counters.length);
      return counters;
    });
    for (const row of rows) keys.push(queueKey(row.deviceId, DeviceQueue.jobId(row.messageId)));
    if (keys.length === 0) return { states: [], rowFacts: [] };
    const answer = (await this.redis.shared.eval(
      POOL_STATE_SCRIPT,
      keys.length,
      ...keys,
      members.length,
      rows.length,
      // Where the script finds an old device's job: DeviceQueue.name's form, the device id appended there.
      `${prefix}:device-`,
      poolMovingKey(prefix),
      ...quotaCounts,
      ...rows.map((row) => row.messageId),
    )) as Array<number | string | null>;

    let at = 0;
    const states = members.map((member, index): PoolMemberState => {
      const online = answer[at++] === 1;
      const lastSeen = answer[at++];
      const load = Number(answer[at++]);
      const quotaUse: Partial<Record<SimSlot, QuotaPeriodUse[]>> = {};
      const fullSlots = new Set<number>();
      for (const counter of layouts[index]) {
        const used = Number(answer[at++] ?? 0);
        (quotaUse[counter.slot] ??= []).push({ limit: counter.limit, used, endsAt: counter.endsAt });
        if (used >= counter.limit) fullSlots.add(counter.slot);
      }
      const state: PoolMemberState = {
        deviceId: member.deviceId,
        online,
        offlineSinceMs: online ? null : lastSeen !== null ? Number(lastSeen) : member.lastSeenAtMs,
        load,
        fullSlots: [...fullSlots].sort((a, b) => a - b),
        sendSlots: member.sendSlots,
        quotaUse,
      };
      if (member.sendHours) state.sendHours = member.sendHours;
      return state;
    });
    const rowFacts = rows.map((): RowFacts => {
      const job = answer[at++];
      const blocked = answer[at++];
      return {
        job: job === 1 ? 'job' : job === 2 ? 'tombstone' : 'none',
        tombstonedOn: blocked === null || blocked === undefined ? null : Number(blocked),
      };
    });
    return { states, rowFacts };
  }

  private async membersOf(poolId: number): Promise<MemberRules[]> {
    this.subscribeOnce();
    const now = Date.now();
    const cached = this.members.get(poolId);
    if (cached && now - cached.at < POOL_MEMBERS_CACHE_MS) return cached.rules;
    const rules = poolMemberRules(this.db, poolId).then((rows) =>
      rows.map((row): MemberRules => ({
        deviceId: row.device_id,
        sendSlots: (row.send_slots.length > 0 ? row.send_slots : SIM_SLOTS) as SimSlot[],
        ...(isSendHours(row.send_hours) ? { sendHours: row.send_hours } : {}),
        ...(isSimQuotas(row.sim_quotas) ? { simQuotas: row.sim_quotas } : {}),
        lastSeenAtMs: row.last_seen_at ? row.last_seen_at.getTime() : null,
      })),
    );
    this.members.set(poolId, { at: now, rules });
    // A failed read is not remembered.
    rules.catch(() => {
      if (this.members.get(poolId)?.rules === rules) this.members.delete(poolId);
    });
    return rules;
  }

  /** Forgets every cached pool: a change names one pool or one device, and the cache is a second old at most. */
  forgetMembers(): void {
    this.members.clear();
  }

  private subscribeOnce(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    const subscriber = this.redis.subscriberConnection();
    subscriber.on('message', (channel: string) => {
      if (channel === this.signal.channel) this.forgetMembers();
    });
    subscriber
      .subscribe(this.signal.channel)
      .catch((error: Error) => this.logger.warn({ err: error }, 'pool changes not subscribed'));
  }
}

interface RowFacts {
  job: 'none' | 'job' | 'tombstone';
  tombstonedOn: number | null;
}
