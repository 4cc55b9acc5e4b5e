import { ApiError } from '../common/api-error';
import { dueTime, parseClientDate } from './client-date';

describe('parseClientDate', () => {
  it.each([
    ['2026-05-29 17:21:27', '2026-05-29T17:21:27.000Z'],
    ['2026-05-29 17:21', '2026-05-29T17:21:00.000Z'],
    ['2026-05-29', '2026-05-29T00:00:00.000Z'],
    ['2026-05-29T17:21:27', '2026-05-29T17:21:27.000Z'],
  ])('reads %s in UTC', (text, iso) => {
    expect(parseClientDate(text, 'UTC', 'timetosend')?.toISOString()).toBe(iso);
  });

  it("reads the time in the account's zone", () => {
    expect(parseClientDate('2026-07-01 12:00:00', 'Europe/Berlin', 'timetosend')?.toISOString()).toBe(
      '2026-07-01T10:00:00.000Z',
    );
  });

  it('treats 0 and empty as no date', () => {
    expect(parseClientDate('0', 'UTC', 'timetosend')).toBeUndefined();
    expect(parseClientDate('  ', 'UTC', 'timetosend')).toBeUndefined();
  });

  it.each([['tomorrow'], ['2026-13-01'], ['2026-02-30 10:00'], ['29.05.2026'], ['2026-05-29 25:00:00']])(
    'rejects %s',
    (text) => {
      expect(() => parseClientDate(text, 'UTC', 'timetosend')).toThrow(ApiError);
    },
  );
});

describe('dueTime', () => {
  const now = new Date('2026-11-25T10:00:00Z');
  it('sends past dates now', () => expect(dueTime(new Date('2019-01-01T00:00:00Z'), now)).toBe(now));
  it('sends undated messages now', () => expect(dueTime(undefined, now)).toBe(now));
  it('keeps future dates', () => {
    const later = new Date('2026-11-26T10:00:00Z');
    expect(dueTime(later, now)).toBe(later);
  });
});
