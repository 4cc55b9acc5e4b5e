import { ApiError } from '../common/api-error';
import { parseSimInfo } from './sim-info';

describe('parseSimInfo', () => {
  it('reads slots from JSON text or a list', () => {
    expect(parseSimInfo('[{"Slot":"1","CarrierName":"x","Roaming":"1"}]')).toEqual([
      { Slot: 1, CarrierName: 'x', Roaming: true },
    ]);
    expect(parseSimInfo([{ Slot: 0, Number: 4915700000001 }])).toEqual([
      { Slot: 0, Number: '4915700000001', Roaming: false },
    ]);
  });

  it.each([
    [
      'NUL in a string (jsonb refuses \\u0000)',
      [{ Slot: 0, CarrierName: 'a\u0000' }],
      /CarrierName may not contain NUL/,
    ],
    ['a lone surrogate', [{ Slot: 0, IccId: '\ud800' }], /IccId is not valid Unicode/],
    ['NUL as JSON text', '[{"Slot":0,"CountryIso":"d\\u0000e"}]', /CountryIso may not contain NUL/],
    ['too many slots', Array.from({ length: 7 }, (_, i) => ({ Slot: i % 6 })), /at most 6/],
    ['JSON text longer than any six slots can be', `[${' '.repeat(20_000)}]`, /siminfo is too long/],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => parseSimInfo(raw)).toThrow(ApiError);
    expect(() => parseSimInfo(raw)).toThrow(message);
  });
});
