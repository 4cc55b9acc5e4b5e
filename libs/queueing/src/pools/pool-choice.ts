import { nextSendOpening, isWithinSendHours, SendHours, SimSlot } from '@smsfleet/contracts';

/** One limited period of a SIM slot now: its limit, what its counter says was taken, and when it ends. */
export interface QuotaPeriodUse {
  limit: number;
  used: number;
  /** Epoch ms. */
  endsAt: number;
}

export interface PoolMemberState {
  deviceId: number;
  online: boolean;
  /** epoch ms since when it is offline (null: online or never seen) */
  offlineSinceMs: number | null;
  /** queued work: wait + prioritized + active + delayed of its device queue */
  load: number;
  /** SIM slots whose quota is full now in some period */
  fullSlots: number[];
  /** The slots it can send from (absent: all). */
  sendSlots?: readonly SimSlot[];
  /** Its send hours (absent: any hour). */
  sendHours?: SendHours;
  /** Per slot that has a quota: each limited period's use now (absent: no quota). */
  quotaUse?: Partial<Record<SimSlot, QuotaPeriodUse[]>>;
}

export interface PoolRouteRequest {
  sim: number;
  urgent: boolean;
}

export interface PoolChoiceOptions {
  /** Members never chosen (the mover's draining ones). */
  excluded?: ReadonlySet<number>;
  /** Epoch ms the choice is made at. */
  now: number;
  /** Breaks ties between equally loaded members: any integer, a different one per call spreads the picks. */
  tieBreak: () => number;
}

/** What one member is, judged once per batch (send hours read a time zone: not per message). */
interface Candidate {
  state: PoolMemberState;
  withinHours: boolean;
  /** Urgent messages may pass its hours. */
  urgentPass: boolean;
  /** The next opening of its hours (now when inside, or without hours). */
  opensAt: number;
  /** Messages this batch gave it so far, in all and per slot. */
  assigned: number;
  assignedBySlot: Map<number, number>;
}

/**
 * Chooses a member for each message of a batch (ADR 2221 §3), urgent ones first, answers in the
 * requests' order. Eligible: online, inside its send hours (or urgent and let through), able to send
 * from the slot, and with quota left in every period of the slot after what this batch already gave it;
 * the least loaded of them (counting this batch), ties broken by `tieBreak`. None eligible: the member that
 * can send the slot and becomes eligible soonest (online), else the least loaded offline one; none that can
 * send the slot at all, or every one excluded: null.
 */
export function choosePoolDevices(
  members: readonly PoolMemberState[],
  requests: readonly PoolRouteRequest[],
  options: PoolChoiceOptions,
): Array<number | null> {
  const { now, tieBreak } = options;
  const candidates: Candidate[] = members
    .filter((state) => !options.excluded?.has(state.deviceId))
    .map((state) => {
      const hours = state.sendHours;
      const withinHours = !hours || isWithinSendHours(hours, now);
      return {
        state,
        withinHours,
        urgentPass: hours?.urgent ?? true,
        opensAt: withinHours || !hours ? now : nextSendOpening(hours, now),
        assigned: 0,
        assignedBySlot: new Map(),
      };
    });
  const order = requests.map((_, index) => index);
  order.sort((a, b) => Number(requests[b].urgent) - Number(requests[a].urgent) || a - b);

  const chosen: Array<number | null> = requests.map(() => null);
  for (const index of order) {
    const { sim, urgent } = requests[index];
    const able = candidates.filter((c) => !c.state.sendSlots || c.state.sendSlots.includes(sim as SimSlot));
    if (able.length === 0) continue;
    const eligible = able.filter(
      (c) => c.state.online && (c.withinHours || (urgent && c.urgentPass)) && quotaFreeAt(c, sim, now) <= now,
    );
    const pick =
      eligible.length > 0
        ? leastLoaded(eligible, tieBreak)
        : soonestEligible(able, sim, urgent, now, tieBreak);
    pick.assigned++;
    pick.assignedBySlot.set(sim, (pick.assignedBySlot.get(sim) ?? 0) + 1);
    chosen[index] = pick.state.deviceId;
  }
  return chosen;
}

/** When the slot has quota again counting this batch's assignments: now, or the end of the longest full period. */
function quotaFreeAt(candidate: Candidate, sim: number, now: number): number {
  const periods = candidate.state.quotaUse?.[sim as SimSlot];
  if (!periods) return now;
  const taken = candidate.assignedBySlot.get(sim) ?? 0;
  let freeAt = now;
  for (const period of periods)
    if (period.limit - period.used - taken <= 0) freeAt = Math.max(freeAt, period.endsAt);
  return freeAt;
}

function leastLoaded(list: Candidate[], tieBreak: () => number): Candidate {
  let best = Infinity;
  let ties: Candidate[] = [];
  for (const candidate of list) {
    const load = candidate.state.load + candidate.assigned;
    if (load < best) {
      best = load;
      ties = [candidate];
    } else if (load === best) ties.push(candidate);
  }
  return ties.length === 1 ? ties[0] : ties[Math.abs(tieBreak()) % ties.length];
}

/** The online member whose hours open or whose quota period ends first; without one online, the least loaded. */
function soonestEligible(
  able: Candidate[],
  sim: number,
  urgent: boolean,
  now: number,
  tieBreak: () => number,
): Candidate {
  const online = able.filter((c) => c.state.online);
  if (online.length === 0) return leastLoaded(able, tieBreak);
  let soonest = Infinity;
  let first: Candidate[] = [];
  for (const candidate of online) {
    const hoursAt = candidate.withinHours || (urgent && candidate.urgentPass) ? now : candidate.opensAt;
    const at = Math.max(hoursAt, quotaFreeAt(candidate, sim, now));
    if (at < soonest) {
      soonest = at;
      first = [candidate];
    } else if (at === soonest) first.push(candidate);
  }
  return leastLoaded(first, tieBreak);
}
