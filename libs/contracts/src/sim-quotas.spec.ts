import { formatSimQuotas, isSimQuotas, parseSimQuotas, quotaOfSlot, quotaWindows } from './sim-quotas';

describe('SIM quotas', () => {
  it('reads slots and periods, falls back to all, and writes them back', () => {
    const quotas = parseSimQuotas('0 100/hour 1000/day; all 20000/month');
    expect(quotas).toEqual({ '0': { hour: 100, day: 1000 }, all: { month: 20000 } });
    expect(typeof quotas !== 'string' && formatSimQuotas(quotas)).toBe(
      '0 100/hour 1000/day; all 20000/month',
    );
    if (typeof quotas === 'string') throw new Error(quotas);
    expect(quotaOfSlot(quotas, 0)).toEqual({ hour: 100, day: 1000 });
    expect(quotaOfSlot(quotas, 1)).toEqual({ month: 20000 });
    expect(quotaOfSlot(undefined, 1)).toBeUndefined();
    expect(isSimQuotas(JSON.parse(JSON.stringify(quotas)))).toBe(true);
    expect(isSimQuotas({ '9': { hour: 1 } })).toBe(false);
    expect(isSimQuotas({ '0': { week: 1 } })).toBe(false);
  });

  it('refuses what it cannot read', () => {
    for (const bad of [
      '',
      '7 5/hour',
      '0 5/week',
      '0 0/hour',
      '0 5/hour; 0 6/day',
      '0 5/hour 6/hour',
      'all',
      'x 1/day',
    ])
      expect(typeof parseSimQuotas(bad)).toBe('string');
  });

  it('counts in UTC hours, days and months, each ending where the next begins', () => {
    const windows = quotaWindows(Date.parse('2026-12-31T23:59:59.999Z'));
    expect(windows.hour).toMatchObject({ id: 'h2026123123', end: Date.parse('2027-01-01T00:00:00Z') });
    expect(windows.day).toMatchObject({ id: 'd20261231', start: Date.parse('2026-12-31T00:00:00Z') });
    expect(windows.month).toMatchObject({ id: 'm202612', end: Date.parse('2027-01-01T00:00:00Z') });
  });
});
