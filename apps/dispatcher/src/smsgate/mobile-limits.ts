/**
 * Where a per-device limit on the app's requests plugs in (the transport-neutral event rate limiter).
 * Each authenticated `/mobile/v1` request passes `admit` before it does any work; a limiter refuses by
 * throwing `MobileError('rate_limited', …)`. Until one is provided, every request is admitted.
 */
export interface MobileRequestLimiter {
  admit(deviceId: number, route: MobileRoute): Promise<void> | void;
}

export type MobileRoute =
  'device:patch' | 'device:get' | 'message:get' | 'message:patch' | 'events' | 'settings' | 'webhooks';

export const MOBILE_REQUEST_LIMITER = Symbol('MOBILE_REQUEST_LIMITER');

export const ADMIT_ALL: MobileRequestLimiter = { admit: () => undefined };
