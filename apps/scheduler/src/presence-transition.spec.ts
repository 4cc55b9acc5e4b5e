import { PresenceCandidate } from '@smsfleet/persistence';
import { decidePresence } from './presence-transition';

const device = (
  webhook_online: boolean | null,
  webhook_offline_since: Date | null = null,
): PresenceCandidate => ({
  id: 7,
  user_id: 3,
  title: 'Pixel',
  last_seen_at: null,
  webhook_online,
  webhook_offline_since,
});
const now = new Date('2026-03-01T10:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('decidePresence', () => {
  it('announces a device coming online at once, and nothing while it stays online', () => {
    expect(decidePresence(device(false), true, now, 60_000)?.announce).toEqual({ online: true, at: now });
    expect(decidePresence(device(null), true, now, 60_000)?.announce).toEqual({ online: true, at: now });
    expect(decidePresence(device(true), true, now, 60_000)).toBeUndefined();
  });

  it('notes an announced-online device offline first, announces it only after the grace', () => {
    const first = decidePresence(device(true), false, now, 60_000);
    expect(first?.announce).toBeUndefined();
    expect(first?.transition.to).toEqual({ online: true, offlineSince: now });
    expect(decidePresence(device(true, ago(59_000)), false, now, 60_000)).toBeUndefined();
    const late = decidePresence(device(true, ago(60_000)), false, now, 60_000);
    expect(late?.announce).toEqual({ online: false, at: ago(60_000) });
    expect(late?.transition.to).toEqual({ online: false, offlineSince: null });
  });

  it('forgets a blip silently: back within the grace, no event either way', () => {
    const back = decidePresence(device(true, ago(30_000)), true, now, 60_000);
    expect(back?.announce).toBeUndefined();
    expect(back?.transition.to).toEqual({ online: true, offlineSince: null });
  });

  it('records a never-announced offline device without an event', () => {
    const quiet = decidePresence(device(null), false, now, 60_000);
    expect(quiet?.announce).toBeUndefined();
    expect(quiet?.transition.to).toEqual({ online: false, offlineSince: null });
    expect(decidePresence(device(false), false, now, 60_000)).toBeUndefined();
  });
});
