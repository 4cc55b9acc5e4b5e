import { DateTime } from 'luxon';
import {
  formatSendHours,
  isSendHours,
  isWithinSendHours,
  nextSendOpening,
  parseSendHours,
  SendHours,
} from './send-hours';

const at = (iso: string, zone = 'Europe/Berlin') => DateTime.fromISO(iso, { zone }).toMillis();

describe('send hours', () => {
  const hours = parseSendHours(
    'mon-fri 08:00-21:00; sat 10:00-12:00 14:00-18:00',
    'Europe/Berlin',
    false,
  ) as SendHours;

  it('reads days, runs of days and several ranges, and writes them back', () => {
    expect(hours.days[0]).toEqual([[480, 1260]]);
    expect(hours.days[5]).toEqual([
      [600, 720],
      [840, 1080],
    ]);
    expect(hours.days[6]).toEqual([]);
    expect(formatSendHours(hours)).toBe(
      'mon 08:00-21:00; tue 08:00-21:00; wed 08:00-21:00; thu 08:00-21:00; fri 08:00-21:00; sat 10:00-12:00 14:00-18:00',
    );
    const wrapped = parseSendHours('fri-mon 00:00-24:00, daily 09:00-10:00', 'UTC', true) as SendHours;
    expect(wrapped.days.map((ranges) => ranges.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(wrapped.days[4]).toEqual([[0, 1440]]);
    expect(isSendHours(hours)).toBe(true);
    expect(isSendHours(JSON.parse(JSON.stringify(wrapped)))).toBe(true);
  });

  it('refuses what it cannot read, with the reason', () => {
    for (const bad of [
      '',
      'mon',
      'mon 9-17',
      'someday 08:00-09:00',
      'mon 21:00-08:00',
      'mon 08:00-24:30',
      'mon-tue-wed 08:00-09:00',
    ])
      expect(typeof parseSendHours(bad, 'UTC', false)).toBe('string');
    expect(parseSendHours('mon 08:00-09:00', 'Mars/Olympus', false)).toMatch(/time zone/);
    expect(isSendHours({ zone: 'UTC', urgent: false, days: [[], [], [], [], [], [], []] })).toBe(false);
    expect(isSendHours({ zone: 'UTC', urgent: false, days: [[[5, 5]], [], [], [], [], [], []] })).toBe(false);
  });

  it('is open inside the ranges in the phone’s own zone, end excluded', () => {
    expect(isWithinSendHours(hours, at('2026-12-07T08:00'))).toBe(true); // a Monday
    expect(isWithinSendHours(hours, at('2026-12-07T20:59'))).toBe(true);
    expect(isWithinSendHours(hours, at('2026-12-07T21:00'))).toBe(false);
    expect(isWithinSendHours(hours, at('2026-12-07T07:59'))).toBe(false);
    expect(isWithinSendHours(hours, at('2026-12-12T13:00'))).toBe(false); // Saturday's break
    expect(isWithinSendHours(hours, at('2026-12-13T11:00'))).toBe(false); // Sunday
    // 08:30 in Berlin is 07:30 UTC: the zone, not the server's, decides.
    expect(isWithinSendHours(hours, at('2026-12-07T07:30', 'UTC'))).toBe(true);
  });

  it('finds the next opening: later today, after a break, over the weekend, across a DST change', () => {
    const now = at('2026-12-07T10:00');
    expect(nextSendOpening(hours, now)).toBe(now);
    expect(nextSendOpening(hours, at('2026-12-07T22:00'))).toBe(at('2026-12-08T08:00'));
    expect(nextSendOpening(hours, at('2026-12-12T12:30'))).toBe(at('2026-12-12T14:00'));
    expect(nextSendOpening(hours, at('2026-12-12T19:00'))).toBe(at('2026-12-14T08:00'));
    // Clocks go forward on Sunday 29 March 2026 at 02:00 in Berlin: Monday 08:00 is CEST (06:00 UTC).
    expect(nextSendOpening(hours, at('2026-03-28T19:00'))).toBe(Date.parse('2026-03-30T06:00:00Z'));
  });
});
