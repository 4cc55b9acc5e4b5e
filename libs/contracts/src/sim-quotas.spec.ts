import {
  formatSimQuotas,
  isSimQuotas,
  parseSimQuotas,
  quotaOfSlot,
  quotaWindows,
  quotaZoneOf,
} from './sim-quotas';

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

  const ms = Date.parse;
  const HOUR = 3_600_000;

  it('counts days in the phone’s zone: a UTC-8 day starts at 08:00 UTC', () => {
    const windows = quotaWindows(ms('2026-12-06T07:59:59Z'), 'America/Los_Angeles');
    expect(windows.day).toEqual({
      period: 'day',
      id: 'd20261205@America/Los_Angeles',
      start: ms('2026-12-05T08:00:00Z'),
      end: ms('2026-12-06T08:00:00Z'),
    });
    expect(quotaWindows(ms('2026-12-06T08:00:00Z'), 'America/Los_Angeles').day.id).toBe(
      'd20261206@America/Los_Angeles',
    );
  });

  it('gives DST days 23 and 25 hours (New York, Berlin)', () => {
    const spring = quotaWindows(ms('2026-03-08T12:00:00Z'), 'America/New_York').day;
    expect(spring).toMatchObject({ start: ms('2026-03-08T05:00:00Z'), end: ms('2026-03-09T04:00:00Z') });
    expect(spring.end - spring.start).toBe(23 * HOUR);
    const autumn = quotaWindows(ms('2026-11-01T12:00:00Z'), 'America/New_York').day;
    expect(autumn).toMatchObject({ start: ms('2026-11-01T04:00:00Z'), end: ms('2026-11-02T05:00:00Z') });
    expect(autumn.end - autumn.start).toBe(25 * HOUR);
    const berlinSpring = quotaWindows(ms('2026-03-29T10:00:00Z'), 'Europe/Berlin').day;
    expect(berlinSpring).toMatchObject({ id: 'd20260329@Europe/Berlin', start: ms('2026-03-28T23:00:00Z') });
    expect(berlinSpring.end - berlinSpring.start).toBe(23 * HOUR);
    const berlinAutumn = quotaWindows(ms('2026-10-25T10:00:00Z'), 'Europe/Berlin').day;
    expect(berlinAutumn.end - berlinAutumn.start).toBe(25 * HOUR);
  });

  it('tells the two 01:00 hours of a fall-back apart, each one hour long', () => {
    const first = quotaWindows(ms('2026-11-01T05:30:00Z'), 'America/New_York').hour;
    const second = quotaWindows(ms('2026-11-01T06:30:00Z'), 'America/New_York').hour;
    expect(first).toMatchObject({
      id: 'h2026110101-0400@America/New_York',
      start: ms('2026-11-01T05:00:00Z'),
    });
    expect(second).toMatchObject({
      id: 'h2026110101-0500@America/New_York',
      start: ms('2026-11-01T06:00:00Z'),
    });
    expect(first.end).toBe(second.start);
    expect(second.end - second.start).toBe(HOUR);
  });

  it('starts hours at local full hours in +05:30 and +05:45 zones', () => {
    const kolkata = quotaWindows(ms('2026-12-06T18:29:59Z'), 'Asia/Kolkata');
    expect(kolkata.hour).toMatchObject({
      id: 'h2026120623+0530@Asia/Kolkata',
      start: ms('2026-12-06T17:30:00Z'),
      end: ms('2026-12-06T18:30:00Z'),
    });
    expect(kolkata.day).toMatchObject({ id: 'd20261206@Asia/Kolkata', end: ms('2026-12-06T18:30:00Z') });
    expect(quotaWindows(ms('2026-12-06T18:30:00Z'), 'Asia/Kolkata').day.id).toBe('d20261207@Asia/Kolkata');
    const kathmandu = quotaWindows(ms('2026-12-06T10:14:00Z'), 'Asia/Kathmandu');
    expect(kathmandu.hour).toMatchObject({
      start: ms('2026-12-06T09:15:00Z'),
      end: ms('2026-12-06T10:15:00Z'),
    });
    expect(kathmandu.day.start).toBe(ms('2026-12-05T18:15:00Z'));
  });

  it('ends months at local month ends, February and year ends included', () => {
    const feb = quotaWindows(ms('2028-02-29T22:30:00Z'), 'Asia/Kolkata').month;
    expect(feb).toMatchObject({ id: 'm202803@Asia/Kolkata', start: ms('2028-02-29T18:30:00Z') });
    const dec = quotaWindows(ms('2027-01-01T04:00:00Z'), 'America/New_York').month;
    expect(dec).toMatchObject({
      id: 'm202612@America/New_York',
      start: ms('2026-12-01T05:00:00Z'),
      end: ms('2027-01-01T05:00:00Z'),
    });
    // March in Berlin spans the change to summer time: 31 days less one hour.
    const march = quotaWindows(ms('2026-03-15T00:00:00Z'), 'Europe/Berlin').month;
    expect(march.end - march.start).toBe(31 * 24 * HOUR - HOUR);
  });

  it('counts in UTC, with the ids used before zones, when the phone has no send hours', () => {
    expect(quotaZoneOf(undefined)).toBe('UTC');
    expect(quotaZoneOf({ zone: 'Asia/Kolkata', urgent: false, days: [] })).toBe('Asia/Kolkata');
    const at = ms('2026-12-06T20:30:00Z');
    expect(quotaWindows(at, quotaZoneOf(null))).toEqual(quotaWindows(at));
    expect(quotaWindows(at).hour.id).toBe('h2026120620');
  });
});
