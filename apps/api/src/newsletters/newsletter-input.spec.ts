import { ApiError } from '../common/api-error';
import { parseNewsletterTime, parseTagIds } from './newsletter-input';

describe('parseNewsletterTime', () => {
  it.each([
    ['29.05.2026 17:21:27', '2026-05-29T17:21:27.000Z'],
    ['29.05.2026 7:21:27', '2026-05-29T07:21:27.000Z'],
    ['1.6.2026 9:05', '2026-06-01T09:05:00.000Z'],
    ['29.05.2026', '2026-05-29T00:00:00.000Z'],
    ['2026-05-29 17:21:27', '2026-05-29T17:21:27.000Z'],
    ['1780075287', '2026-05-29T17:21:27.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseNewsletterTime(text, 'UTC')?.toISOString()).toBe(iso);
  });

  it("reads it in the account's zone", () => {
    expect(parseNewsletterTime('29.05.2026 17:21:27', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-05-29T15:21:27.000Z',
    );
  });

  it.each([[undefined], [''], ['0'], [' 0 ']])('takes %j as now', (text) => {
    expect(parseNewsletterTime(text, 'UTC')).toBeUndefined();
  });

  it.each([['31.02.2026 10:00:00'], ['tomorrow'], ['29/05/2026'], ['12345']])('rejects %s', (text) => {
    expect(() => parseNewsletterTime(text, 'UTC')).toThrow(ApiError);
  });
});

describe('parseTagIds', () => {
  it('reads ids separated by commas, with spaces, each once', () => {
    expect(parseTagIds('12, 13,14,12')).toEqual([12, 13, 14]);
  });

  it.each([['12,,13'], ['a'], ['0'], ['-1'], ['1.5'], ['99999999999']])('rejects %s', (text) => {
    expect(() => parseTagIds(text)).toThrow(/tags must be tag ids/);
  });

  it('refuses more than 1,000 ids before reading them', () => {
    expect(() => parseTagIds(Array.from({ length: 1_001 }, (_, i) => i + 1).join(','))).toThrow(
      'tags has more than 1000 ids; at most 1000',
    );
  });
});
