import { InvalidInput } from '@smsfleet/validation';
import { RequestParams } from '../common/request-params';
import { pathId, poolDeviceIds, poolName } from './pool-input';

const body = (values: Record<string, unknown>) => new RequestParams(undefined, values);

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInput);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('pool input', () => {
  it('trims a name and refuses empty, long, non-text and control characters', () => {
    expect(poolName(body({ name: '  Shop  ' }), true)).toBe('Shop');
    expect(poolName(body({}), false)).toBeUndefined();
    expect(refusal(() => poolName(body({}), true))).toBe('name is required');
    expect(refusal(() => poolName(body({ name: ' ' }), true))).toBe('name must not be empty');
    expect(poolName(body({ name: 'é'.repeat(100) }), true)).toHaveLength(100);
    expect(refusal(() => poolName(body({ name: 'x'.repeat(101) }), true))).toBe(
      'name is longer than 100 characters',
    );
    expect(refusal(() => poolName(body({ name: ['a'] }), true))).toBe('name must be text');
    expect(refusal(() => poolName(body({ name: 'a\tb' }), true))).toBe(
      'name must not contain control characters',
    );
  });

  it('reads device ids from a list or comma-separated text, distinct and sorted', () => {
    expect(poolDeviceIds(body({ device_ids: [5, '3', 5] }), true)).toEqual([3, 5]);
    expect(poolDeviceIds(body({ device_ids: ' 9, 2 ' }), true)).toEqual([2, 9]);
    expect(poolDeviceIds(body({ device_ids: 7 }), true)).toEqual([7]);
    expect(poolDeviceIds(body({ device_ids: '' }), false)).toEqual([]);
    expect(poolDeviceIds(body({}), false)).toBeUndefined();
    expect(refusal(() => poolDeviceIds(body({}), true))).toBe('device_ids is required');
    expect(refusal(() => poolDeviceIds(body({ device_ids: [] }), true))).toBe(
      'device_ids needs at least one device id',
    );
    expect(refusal(() => poolDeviceIds(body({ device_ids: [1.5] }), true))).toBe(
      'device_ids must be a whole number',
    );
    expect(refusal(() => poolDeviceIds(body({ device_ids: [2_147_483_648] }), true))).toMatch(
      /^device_ids must be/,
    );
    expect(refusal(() => poolDeviceIds(body({ device_ids: { a: 1 } }), true))).toBe(
      'device_ids must be a list',
    );
    const many = Array.from({ length: 1_001 }, (_, i) => i + 1);
    expect(refusal(() => poolDeviceIds(body({ device_ids: many }), true))).toBe(
      'device_ids has more than 1000 items',
    );
    expect(refusal(() => poolDeviceIds(body({ device_ids: many.join(',') }), true))).toBe(
      'device_ids has more than 1000 items',
    );
  });

  it('takes only positive int4 path ids', () => {
    expect(pathId('12')).toBe(12);
    for (const bad of ['0', '-1', 'abc', '1e3', '2147483648', '99999999999', ''])
      expect(pathId(bad)).toBeUndefined();
  });
});
