import { normalisePhone } from './phone-number';

describe('normalisePhone', () => {
  it.each([
    ['+4915752982212', '+4915752982212'],
    ['+49 157 52982212', '+4915752982212'],
    ['0049 157-52982212', '+4915752982212'],
    ['+49 (0)157 52982212', '+4915752982212'],
    ['+1 (555) 010-9999', '+15550109999'],
    ['015752982212', '015752982212'],
    ['(0157) 529 822 12', '015752982212'],
    // Not a possible number anywhere: kept as written, digits only.
    ['+999123', '+999123'],
  ])('%s → %s', (text, expected) => {
    expect(normalisePhone(text)).toBe(expected);
  });

  it.each([['abc'], ['12'], [''], ['+49 157 abc'], ['+'.repeat(3)]])('refuses %j', (text) => {
    expect(normalisePhone(text)).toBeUndefined();
  });
});
