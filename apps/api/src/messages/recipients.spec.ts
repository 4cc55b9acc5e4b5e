import { ApiError } from '../common/api-error';
import { parseRecipients } from './recipients';

describe('parseRecipients', () => {
  it('keeps one number as written and normalises it for search', () => {
    expect(parseRecipients('+49 157 52982212', false)).toEqual([
      { sendto: '+49 157 52982212', phone: '+4915752982212' },
    ]);
  });

  it('splits several numbers on commas', () => {
    expect(parseRecipients('+4915752982212,+4915752982213, 0049157', false).map((r) => r.phone)).toEqual([
      '+4915752982212',
      '+4915752982213',
      '+49157',
    ]);
  });

  it('restores a + that a GET query string turned into a space', () => {
    expect(parseRecipients(' 4915752982212, 4915752982213', true)).toEqual([
      { sendto: '+4915752982212', phone: '+4915752982212' },
      { sendto: '+4915752982213', phone: '+4915752982213' },
    ]);
  });

  it('does not invent a + for values from a body', () => {
    expect(parseRecipients(' 4915752982212', false)[0].phone).toBe('4915752982212');
  });

  it.each([['abc'], ['12'], ['+49 157 abc'], [''], ['4915752982212,,4915752982213']])('rejects %j', (raw) => {
    expect(() => parseRecipients(raw, false)).toThrow(ApiError);
  });

  it('names the bad number', () => {
    expect(() => parseRecipients('+4915752982212,hello', false)).toThrow(/"hello" is not a phone number/);
  });

  it('caps the recipients of one request', () => {
    const many = Array.from({ length: 1_001 }, (_, i) => `+49157${String(i).padStart(7, '0')}`).join(',');
    expect(() => parseRecipients(many, false)).toThrow(/at most 1000/);
  });
});
