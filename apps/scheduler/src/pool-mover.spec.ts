import type { PoolMemberState } from '@smsfleet/queueing';
import { drainingMembers } from './pool-mover.service';

/** Which devices holding a pool's waiting messages drain (ADR 2221 §4). */
describe('drainingMembers', () => {
  const now = 1_800_000_000_000;
  const grace = 60_000;
  const member = (deviceId: number, extra: Partial<PoolMemberState> = {}): PoolMemberState => ({
    deviceId,
    online: true,
    offlineSinceMs: null,
    load: 0,
    fullSlots: [],
    ...extra,
  });

  it('drains a device no longer in the pool, one offline past the grace or never seen, and the full slots of one', () => {
    const state = [
      member(1),
      member(2, { online: false, offlineSinceMs: now - grace - 1 }),
      member(3, { online: false, offlineSinceMs: null }),
      member(4, { fullSlots: [1] }),
      member(5, { online: false, offlineSinceMs: now - grace + 1_000, fullSlots: [0] }),
    ];
    expect(drainingMembers([1, 2, 3, 4, 5, 9], state, now, grace)).toEqual([
      { deviceId: 2, reason: 'offline', slots: null },
      { deviceId: 3, reason: 'offline', slots: null },
      { deviceId: 4, reason: 'quota', slots: [1] },
      // Offline within its grace, but its slot 0 is full: those messages go.
      { deviceId: 5, reason: 'quota', slots: [0] },
      { deviceId: 9, reason: 'left', slots: null },
    ]);
  });

  it('leaves alone an online member and one offline within its grace', () => {
    const state = [member(1), member(2, { online: false, offlineSinceMs: now - grace })];
    expect(drainingMembers([1, 2], state, now, grace)).toEqual([]);
  });
});
