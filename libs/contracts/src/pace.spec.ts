import { drawPaceMs, paceRangeMs } from './socket-events';

describe('a phone’s pace', () => {
  it('is fixed without an upper end, and none at 0', () => {
    expect(paceRangeMs({ delaybetweeneachsms: 3, window: 10 })).toEqual([3_000, 3_000]);
    expect(drawPaceMs({ delaybetweeneachsms: 3, window: 10 }, () => 0.99)).toBe(3_000);
    expect(drawPaceMs({ delaybetweeneachsms: 0, window: 10 })).toBe(0);
    // An upper end below the lower one is no range (the API refuses it; a stale signal must not shorten the pace).
    expect(paceRangeMs({ delaybetweeneachsms: 5, window: 10, delaybetweeneachsms_max: 2 })).toEqual([
      5_000, 5_000,
    ]);
  });

  it('draws each gap within its range, both ends included, and not always the same', () => {
    const settings = { delaybetweeneachsms: 5, window: 10, delaybetweeneachsms_max: 15 };
    expect(drawPaceMs(settings, () => 0)).toBe(5_000);
    expect(drawPaceMs(settings, () => 0.999_999_99)).toBe(15_000);
    const draws = Array.from({ length: 1_000 }, () => drawPaceMs(settings));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(5_000);
    expect(Math.max(...draws)).toBeLessThanOrEqual(15_000);
    expect(new Set(draws).size).toBeGreaterThan(500);
  });
});
