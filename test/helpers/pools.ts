import { SimulatedFleet } from '../../tools/simulator/fleet';
import type { PhoneBehaviour } from '../../tools/simulator/simulated-phone';
import type { Account, TestSystem } from '../harness/test-system';
import { v1Call } from './api-client';

/** Phones that send, deliver and ack at once and never fail. */
export const QUICK_PHONES: PhoneBehaviour = {
  sendDelayMs: 5,
  deliveryDelayMs: 5,
  failureShare: 0,
  ackDelayMs: 0,
};

/** As QUICK_PHONES, but crashing on a "silent" body: emitted (marked), never acked or sent. */
export const SILENT_ON_SILENT: PhoneBehaviour = {
  ...QUICK_PHONES,
  poison: (payload) => (payload.body === 'silent' ? 'ignore' : undefined),
};

/** A simulated fleet whose phones register for this account. */
export function fleetFor(system: TestSystem, account: Account, behaviour: PhoneBehaviour = QUICK_PHONES) {
  return new SimulatedFleet({
    apiUrl: system.apiUrl,
    dispatcherUrl: system.dispatcherUrl,
    email: account.email,
    password: account.password,
    behaviour,
  });
}

/** Creates a pool of these devices for the account; its id. */
export async function createPool(apiUrl: string, account: Account, name: string, deviceIds: number[]) {
  const answer = await v1Call(apiUrl, account, 'POST', '/v1/pools', { name, device_ids: deviceIds });
  if (answer.body.error !== 0)
    throw new Error(`pool not created: HTTP ${answer.status} ${answer.body.message}`);
  return answer.body.pool.id as number;
}

/** How many of the pool's members the API counts online. */
export async function poolOnline(apiUrl: string, account: Account, poolId: number) {
  return (await v1Call(apiUrl, account, 'GET', `/v1/pools/${poolId}`)).body.pool.online as number;
}
