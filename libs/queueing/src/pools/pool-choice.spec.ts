import { parseSendHours, SendHours } from '@smsfleet/contracts';
import { choosePoolDevices, PoolMemberState, PoolRouteRequest } from './pool-choice';

/** Wednesday 2026-12-02 12:00 UTC. */
const NOON = Date.UTC(2026, 11, 2, 12);
const HOUR_END = Date.UTC(2026, 11, 2, 13);
const DAY_END = Date.UTC(2026, 11, 3);

const member = (deviceId: number, extra: Partial<PoolMemberState> = {}): PoolMemberState => ({
  deviceId,
  online: true,
  offlineSinceMs: null,
  load: 0,
  fullSlots: [],
  ...extra,
});
const normal = (count: number, sim = 0): PoolRouteRequest[] =>
  Array.from({ length: count }, () => ({ sim, urgent: false }));
const hours = (text: string, urgent = false) => parseSendHours(text, 'UTC', urgent) as SendHours;

function choose(
  members: PoolMemberState[],
  requests: PoolRouteRequest[],
  options: { excluded?: Set<number>; now?: number; ticks?: number } = {},
) {
  let tick = options.ticks ?? 0;
  return choosePoolDevices(members, requests, {
    excluded: options.excluded,
    now: options.now ?? NOON,
    tieBreak: () => tick++,
  });
}

describe('choosePoolDevices', () => {
  it('chooses online members only, while one is online', () => {
    const members = [member(1, { online: false, offlineSinceMs: NOON - 5_000 }), member(2, { load: 50 })];
    expect(choose(members, normal(3))).toEqual([2, 2, 2]);
  });

  it('honours send hours, and lets urgent messages through where the hours allow it', () => {
    const members = [
      member(1, { sendHours: hours('daily 00:00-08:00', true) }),
      member(2, { sendHours: hours('daily 00:00-08:00', false), load: 0 }),
      member(3, { sendHours: hours('daily 08:00-18:00'), load: 10 }),
    ];
    expect(choose(members, normal(2))).toEqual([3, 3]);
    // Urgent first: 1 passes its hours for urgent messages, 2 does not.
    expect(
      choose(members, [
        { sim: 0, urgent: false },
        { sim: 0, urgent: true },
      ]),
    ).toEqual([3, 1]);
  });

  it('sends a slot only from members that can send it; none can: null', () => {
    const members = [member(1, { sendSlots: [0, 1] }), member(2, { sendSlots: [0, 1, 2, 3, 4, 5], load: 9 })];
    expect(choose(members, normal(2, 2))).toEqual([2, 2]);
    expect(choose([member(1, { sendSlots: [0, 1] })], normal(1, 4))).toEqual([null]);
  });

  it('counts the remaining quota across the batch, per slot and in every period', () => {
    const members = [
      member(1, {
        quotaUse: {
          0: [
            { limit: 10, used: 8, endsAt: HOUR_END },
            { limit: 100, used: 0, endsAt: DAY_END },
          ],
        },
      }),
      member(2, { load: 3 }),
    ];
    // 1 has two left on slot 0: it takes the first three (load 0,1,2 < 3 … tie at 3 rotates) until full.
    const picks = choose(members, normal(8));
    expect(picks.filter((device) => device === 1)).toHaveLength(2);
    expect(picks.filter((device) => device === 2)).toHaveLength(6);
    // Slot 1 has no quota on member 1: not limited by slot 0's.
    expect(choose(members, normal(3, 1))).toEqual([1, 1, 1]);
  });

  it('chooses the least loaded, counting what the batch gave each', () => {
    const members = [member(1, { load: 4 }), member(2, { load: 0 }), member(3, { load: 2 })];
    const picks = choose(members, normal(9));
    const count = (device: number) => picks.filter((pick) => pick === device).length;
    // Loads end level: 4+1, 0+5, 2+3 → 5, 5, 5 (ties at the end rotate).
    expect([count(1), count(2), count(3)]).toEqual([1, 5, 3]);
    expect(picks.slice(0, 2)).toEqual([2, 2]);
  });

  it('breaks ties by the rotation it is given, so different calls spread over equal members', () => {
    const members = [member(1), member(2), member(3)];
    const firsts = [0, 1, 2].map((ticks) => choose(members, normal(1), { ticks })[0]);
    expect(new Set(firsts)).toEqual(new Set([1, 2, 3]));
    expect(choose(members, normal(3)).sort()).toEqual([1, 2, 3]);
  });

  it('never chooses an excluded member; all excluded: null', () => {
    const members = [member(1), member(2, { load: 100 })];
    expect(choose(members, normal(2), { excluded: new Set([1]) })).toEqual([2, 2]);
    expect(choose(members, normal(1), { excluded: new Set([1, 2]) })).toEqual([null]);
    expect(choose([], normal(1))).toEqual([null]);
  });

  it('none eligible: the online member eligible soonest, else the least loaded offline one', () => {
    const full = { 0: [{ limit: 5, used: 5, endsAt: HOUR_END }] };
    const dayFull = { 0: [{ limit: 5, used: 5, endsAt: DAY_END }] };
    // Hours open at 14:00 on 1; quota frees at 13:00 on 2; 3's day quota at midnight.
    const members = [
      member(1, { sendHours: hours('daily 14:00-20:00') }),
      member(2, { quotaUse: full, load: 40 }),
      member(3, { quotaUse: dayFull }),
      member(4, { online: false, offlineSinceMs: NOON - 1 }),
    ];
    expect(choose(members, normal(2))).toEqual([2, 2]);
    const offline = [
      member(4, { online: false, offlineSinceMs: NOON - 1, load: 3 }),
      member(5, { online: false, offlineSinceMs: null, load: 1 }),
    ];
    expect(choose(offline, normal(1))).toEqual([5]);
  });

  it('answers in the requests order with urgent ones chosen first', () => {
    const members = [member(1, { load: 0 }), member(2, { load: 1 })];
    // The urgent one (last) takes the least loaded member; the normal one then finds them level.
    expect(
      choose(
        members,
        [
          { sim: 0, urgent: false },
          { sim: 0, urgent: true },
        ],
        { ticks: 1 },
      ),
    ).toEqual([2, 1]);
  });
});
