import { ApiError } from './api-error';
import { parseCallerZone } from './caller-zone';
import { humanDate, phpDate } from './php-date';

const at = new Date('2023-11-02T21:44:43.123Z');

describe('parseCallerZone and phpDate', () => {
  it("uses the account's zone when none is given", () => {
    expect(phpDate(at, parseCallerZone(undefined, 'Europe/Paris'))).toEqual({
      date: '2023-11-02 22:44:43.123000',
      timezone_type: 3,
      timezone: 'Europe/Paris',
    });
  });

  it('takes a zone name as type 3', () => {
    expect(phpDate(at, parseCallerZone('Australia/Sydney', 'UTC'))).toEqual({
      date: '2023-11-03 08:44:43.123000',
      timezone_type: 3,
      timezone: 'Australia/Sydney',
    });
  });

  it.each([
    ['2', '+02:00', '2023-11-02 23:44:43.123000'],
    ['+2', '+02:00', '2023-11-02 23:44:43.123000'],
    ['-5', '-05:00', '2023-11-02 16:44:43.123000'],
    ['5.5', '+05:30', '2023-11-03 03:14:43.123000'],
    ['+05:30', '+05:30', '2023-11-03 03:14:43.123000'],
    ['-0330', '-03:30', '2023-11-02 18:14:43.123000'],
    ['0', '+00:00', '2023-11-02 21:44:43.123000'],
  ])('takes the offset %s as type 1 %s', (text, name, date) => {
    expect(phpDate(at, parseCallerZone(text, 'UTC'))).toEqual({ date, timezone_type: 1, timezone: name });
  });

  it.each([['Mars/Olympus'], ['15'], ['+2h'], ['tomorrow']])('rejects %s', (text) => {
    expect(() => parseCallerZone(text, 'UTC')).toThrow(ApiError);
  });

  it('formats dates for people as the original does', () => {
    expect(humanDate(at, parseCallerZone('UTC', 'UTC'))).toBe('02.11.2023 21:44:43');
  });
});
