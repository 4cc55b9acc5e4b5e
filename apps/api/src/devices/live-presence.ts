import { DevicePresence, DevicePresenceView } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';

/** Redis commands wait for a reconnect: without a bound, a Redis outage would hang the answers. */
const PRESENCE_TIMEOUT_MS = 1_000;

/** The devices' live presence, or `unavailable` (retry) when Redis does not answer within a second. */
export async function livePresence(
  presence: DevicePresence,
  deviceIds: number[],
): Promise<Map<number, DevicePresenceView>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      presence.lookup(deviceIds),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ApiError('unavailable', 'temporarily unavailable, retry')),
          PRESENCE_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
