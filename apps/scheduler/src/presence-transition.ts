import { PresenceCandidate, PresenceTransition } from '@smsfleet/persistence';

/** What a sweep decided for one device: the new announced state, and the event to send with it, if any. */
export interface PresenceDecision {
  transition: PresenceTransition;
  announce?: { online: boolean; at: Date };
}

/**
 * Compares a device's presence now (Redis) with what was announced. Online: announced at once (a device
 * never announced counts as news too). Offline: a device announced online is first only noted offline
 * (`webhook_offline_since`), and announced once it has stayed so for `graceMs`: a phone back within it, a
 * blip, or presence lost with a Redis flush and refreshed by its node, produces neither event. A device
 * never announced and offline is recorded so silently. Undefined: nothing to record.
 */
export function decidePresence(
  device: PresenceCandidate,
  online: boolean,
  now: Date,
  graceMs: number,
): PresenceDecision | undefined {
  const from = { online: device.webhook_online, offlineSince: device.webhook_offline_since };
  const at = (to: PresenceTransition['to']) => ({ id: device.id, from, to });
  if (online) {
    if (device.webhook_online !== true)
      return { transition: at({ online: true, offlineSince: null }), announce: { online: true, at: now } };
    if (device.webhook_offline_since !== null)
      return { transition: at({ online: true, offlineSince: null }) };
    return undefined;
  }
  if (device.webhook_online === null) return { transition: at({ online: false, offlineSince: null }) };
  if (device.webhook_online === false) return undefined;
  const since = device.webhook_offline_since;
  if (since === null) return { transition: at({ online: true, offlineSince: now }) };
  if (now.getTime() - since.getTime() < graceMs) return undefined;
  return { transition: at({ online: false, offlineSince: null }), announce: { online: false, at: since } };
}
