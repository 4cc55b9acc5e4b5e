import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '@smsfleet/config';
import { ApiError } from '../common/api-error';
import { BulkGate } from './bulk-gate';

const gateOf = (bulksPerAccount: number) => new BulkGate({ api: { bulksPerAccount } } as AppConfig);
const request = () => ({ raw: {} }) as FastifyRequest;

function refusal(hold: () => unknown): ApiError {
  try {
    hold();
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('not refused');
}

describe('BulkGate', () => {
  it('lets one bulk of an account run at a time, with Retry-After; other accounts are not affected', () => {
    const gate = gateOf(1);
    const release = gate.hold(request(), 7);
    const refused = refusal(() => gate.hold(request(), 7));
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({
      code: 'rate_limited',
      retryAfterSeconds: 1,
      message: 'at most 1 addalotofsms of one account at a time; retry when the previous one has answered',
    });
    const other = gate.hold(request(), 8);
    expect(gate.runningFor(8)).toBe(1);
    release();
    expect(gate.runningFor(7)).toBe(0);
    gate.hold(request(), 7);
    expect(gate.runningFor(7)).toBe(1);
    other();
    expect(gate.runningFor(8)).toBe(0);
  });

  it('takes the configured number of slots', () => {
    const gate = gateOf(2);
    gate.hold(request(), 1);
    gate.hold(request(), 1);
    expect(refusal(() => gate.hold(request(), 1)).code).toBe('rate_limited');
  });

  it('one request holds one slot, freed once every holder let go; a second release changes nothing', () => {
    const gate = gateOf(1);
    const bulk = request();
    const beforeBody = gate.hold(bulk, 3);
    const handler = gate.hold(bulk, 3);
    expect(gate.runningFor(3)).toBe(1);
    beforeBody();
    beforeBody();
    expect(gate.runningFor(3)).toBe(1);
    expect(refusal(() => gate.hold(request(), 3)).code).toBe('rate_limited');
    handler();
    expect(gate.runningFor(3)).toBe(0);
  });

  it('a request of two accounts (query token and datajson token differ) holds a slot of each', () => {
    const gate = gateOf(1);
    const bulk = request();
    const first = gate.hold(bulk, 1);
    const second = gate.hold(bulk, 2);
    expect([gate.runningFor(1), gate.runningFor(2)]).toEqual([1, 1]);
    first();
    second();
    expect([gate.runningFor(1), gate.runningFor(2)]).toEqual([0, 0]);
  });
});
