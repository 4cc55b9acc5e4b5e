import { LocalWindows } from './local-windows';

describe('LocalWindows', () => {
  it('counts within a window and starts again after it', () => {
    const windows = new LocalWindows(1_000);
    expect(windows.add('a', 1, 0)).toEqual({ count: 1, remainingMs: 1_000 });
    expect(windows.add('a', 1, 400)).toEqual({ count: 2, remainingMs: 600 });
    expect(windows.add('a', -1, 500).count).toBe(1);
    expect(windows.add('a', 1, 1_000)).toEqual({ count: 1, remainingMs: 1_000 });
  });

  it('never counts below zero, and stays within its size', () => {
    const windows = new LocalWindows(1_000, 2);
    expect(windows.add('a', -1, 0).count).toBe(0);
    windows.add('b', 1, 0);
    windows.add('c', 1, 0);
    // 'a' (the oldest) made room for 'c'.
    expect(windows.add('a', 0, 1).count).toBe(0);
    expect(windows.add('c', 0, 1).count).toBe(1);
  });
});
