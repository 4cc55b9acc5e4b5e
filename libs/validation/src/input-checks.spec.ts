import fc from 'fast-check';
import {
  checkArray,
  checkSeparated,
  countParts,
  checkInt,
  checkOptionalText,
  checkText,
  checkTime,
  InvalidInput,
  isStorableText,
  toStorableText,
  unstorableTextProblem,
} from './index';

describe('storable text', () => {
  it.each([
    ['x\u0000', 'may not contain NUL characters'],
    ['a\ud800', 'is not valid Unicode (a lone surrogate)'],
    ['\udc00b', 'is not valid Unicode (a lone surrogate)'],
  ])('refuses %j', (text, problem) => {
    expect(unstorableTextProblem(text)).toBe(problem);
  });

  it('accepts pairs, emoji and other control characters PostgreSQL stores', () => {
    expect(unstorableTextProblem('😀 \t\r\n\u0001 ü')).toBeUndefined();
  });

  it('repairs what must not be refused, and only that', () => {
    expect(toStorableText('a\u0000b\ud800c😀')).toBe('a\ufffdb\ufffdc😀');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => isStorableText(toStorableText(text))));
  });

  it('agrees with what JSON and UTF-8 round-trip unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        if (!isStorableText(text)) return;
        expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
        expect(text.includes('\u0000')).toBe(false);
      }),
    );
  });
});

describe('checks', () => {
  it('names the field and never echoes the value', () => {
    const attempt = () => checkText('secret\u0000', 'body', { max: 100 });
    expect(attempt).toThrow(InvalidInput);
    expect(attempt).toThrow('body may not contain NUL characters');
    expect(() => checkText('x'.repeat(11), 'title', { max: 10 })).toThrow(
      'title is too long (11 characters, at most 10)',
    );
  });

  it('text: required unless optional; numbers only when allowed', () => {
    expect(() => checkText('  ', 'name', { max: 5 })).toThrow('name is required');
    expect(checkOptionalText(undefined, 'name', { max: 5 })).toBeUndefined();
    expect(checkOptionalText('', 'name', { max: 5 })).toBe('');
    expect(() => checkText(42, 'name', { max: 5 })).toThrow('name must be text');
    expect(checkText(42, 'name', { max: 5, numbersAsText: true })).toBe('42');
  });

  it('int, array and time bounds', () => {
    expect(checkInt('7', 'n', { min: 0, max: 9, numbersAsText: true })).toBe(7);
    expect(() => checkInt(1.5, 'n', { min: 0, max: 9 })).toThrow('n must be a whole number');
    expect(() => checkInt(10, 'n', { min: 0, max: 9 })).toThrow('n must be between 0 and 9');
    expect(() => checkArray(new Array(3), 'list', { max: 2 })).toThrow('list has more than 2 items');
    expect(checkTime('2026-11-25T10:00:00.000+07:00', 'at').toISOString()).toBe('2026-11-25T03:00:00.000Z');
    expect(() => checkTime('2026-13-45', 'at')).toThrow('at must be an ISO-8601 time');
    expect(() => checkTime('x'.repeat(100), 'at')).toThrow('at must be an ISO-8601 time');
  });

  it('counts separated parts no further than asked, and refuses a list over its cap before splitting', () => {
    expect(countParts('a', ',', 10)).toBe(1);
    expect(countParts('a,,b,', ',', 10)).toBe(4);
    expect(countParts(','.repeat(1_000_000), ',', 5)).toBe(5);
    expect(checkSeparated('1,2,3', 'tags', { separator: ',', max: 3 })).toEqual(['1', '2', '3']);
    expect(() => checkSeparated('1,2,3,4', 'tags', { separator: ',', max: 3 })).toThrow(
      'tags has more than 3 items',
    );
  });
});
