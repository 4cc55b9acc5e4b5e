import { ApiError } from '../common/api-error';
import { MAX_IMPORT_ROWS, readContactRows } from './contact-rows';

const refusal = (value: unknown): ApiError => {
  try {
    readContactRows(value);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('not refused');
};

describe('readContactRows', () => {
  it('reads numbers and names; a number given twice is one contact with its last non-empty name', () => {
    const rows = readContactRows([
      { phone: '+49 1575 2982212', name: ' Anna ' },
      { phone: '+4915752982213' },
      { phone: '+4915752982212', name: '' },
      { phone: '+4915752982213', name: 'Ben' },
    ]);
    expect(rows.map((row) => [row.recipient.phone, row.name])).toEqual([
      ['+4915752982212', 'Anna'],
      ['+4915752982213', 'Ben'],
    ]);
  });

  it('names every bad row and field, and saves nothing', () => {
    const error = refusal([
      { phone: '+4915752982212' },
      { phone: 'call me' },
      'not an object',
      { phone: '+4915752982214', name: 'x'.repeat(256) },
      { phone: '+4915752982215', name: 'nul\u0000' },
      { name: 'no phone' },
    ]);
    expect(error.code).toBe('validation');
    expect(error.items?.map((e) => [e.index, e.field])).toEqual([
      [1, 'phone'],
      [2, 'item'],
      [3, 'name'],
      [4, 'name'],
      [5, 'phone'],
    ]);
    expect(error.message).toMatch(/^5 row\(s\) refused, nothing was saved: row 1 \(phone\)/);
  });

  it('refuses what is not a list, an empty list and more rows than one request takes', () => {
    expect(refusal(undefined).message).toBe('contacts must be a list of {phone, name}');
    expect(refusal({ phone: '+4915752982212' }).message).toBe('contacts must be a list of {phone, name}');
    expect(refusal([]).message).toBe('contacts is empty');
    const tooMany = Array.from({ length: MAX_IMPORT_ROWS + 1 }, () => ({ phone: '+4915752982212' }));
    expect(refusal(tooMany).message).toBe(
      `contacts has ${MAX_IMPORT_ROWS + 1} rows; at most ${MAX_IMPORT_ROWS} per request`,
    );
    expect(refusal(tooMany).items).toBeUndefined();
  });
});
