import { parseRetryAfter } from './retry-after';

const now = Date.parse('2026-03-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter(['5', '9'], now)).toBe(5000);
  });

  it('reads the three HTTP date forms, a past date as 0', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Sunday, 01-Mar-26 12:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sun Mar  1 12:00:05 2026', now)).toBe(5000);
    expect(parseRetryAfter('Sat, 28 Feb 2026 12:00:00 GMT', now)).toBe(0);
  });

  it('ignores what is absent or unreadable, and clamps absurd values to a year', () => {
    for (const value of [undefined, '', '-5', '1.5', 'soon', '12abc', 'Mon, 99 Foo 2026 GMT'])
      expect(parseRetryAfter(value, now)).toBeUndefined();
    expect(parseRetryAfter('99999999999', now)).toBe(365 * 24 * 3600 * 1000);
  });
});
