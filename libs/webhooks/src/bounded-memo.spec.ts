import { BoundedMemo } from './bounded-memo';

describe('BoundedMemo', () => {
  it('computes each key once and answers it again from memory', () => {
    const computed: string[] = [];
    const memo = new BoundedMemo((key) => {
      computed.push(key);
      return key.length === 0 ? undefined : key.toUpperCase();
    });
    expect([memo.get('a'), memo.get('b'), memo.get('a'), memo.get(''), memo.get('')]).toEqual([
      'A',
      'B',
      'A',
      undefined,
      undefined,
    ]);
    expect(computed).toEqual(['a', 'b', '']);
  });

  it('never holds more than its capacity: full, it starts again empty', () => {
    let calls = 0;
    const memo = new BoundedMemo((key) => (calls++, key), 3);
    for (const key of ['a', 'b', 'c', 'd']) memo.get(key);
    expect(memo.size).toBe(1);
    memo.get('a');
    expect(calls).toBe(5);
    expect(memo.size).toBe(2);
  });
});
