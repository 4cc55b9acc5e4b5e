import { countBulkText } from './bulk-field-count';

const item = (sendto: string) => ({ sendto, body: 'a, "b" \\ c', device_id: 1 });

describe('countBulkText', () => {
  it('counts a smsdata field (the list itself) the way readBulkItems does', () => {
    const text = JSON.stringify([item('1,2,3'), item('4'), { sendto: 5 }]);
    expect(countBulkText(text, 'items', 5)).toEqual({ over: false });
    expect(countBulkText(text, 'items', 4)).toEqual({ over: true, reason: 'messages', index: 2 });
    expect(countBulkText(text, 'items', 3)).toEqual({ over: true, reason: 'messages', index: 1 });
  });

  it('counts a datajson field, and a smsdata string inside it', () => {
    const list = Array.from({ length: 6 }, () => item('1,2'));
    expect(countBulkText(JSON.stringify({ token: 't', smsdata: list }), 'object', 10)).toEqual({
      over: true,
      reason: 'messages',
      index: 5,
    });
    const asText = JSON.stringify({ token: 't', smsdata: JSON.stringify(list) });
    expect(countBulkText(asText, 'object', 10)).toEqual({ over: true, reason: 'messages', index: 5 });
    expect(countBulkText(asText, 'object', 12)).toEqual({ over: false });
  });

  it('refuses on the item count too, across pieces, with text beyond ASCII', () => {
    const list = Array.from({ length: 30_000 }, () => ({ sendto: '1,2', body: 'Grüße 😀 '.repeat(3) }));
    const verdict = countBulkText(JSON.stringify(list), 'items', 10_000);
    expect(verdict).toEqual({ over: true, reason: 'messages', index: 5_000 });
    expect(countBulkText(JSON.stringify(list.map(() => 'x')), 'items', 10_000)).toEqual({
      over: true,
      reason: 'items',
      index: 10_000,
    });
  });

  it('leaves text that is not JSON to the parser', () => {
    expect(countBulkText('not json', 'items', 1)).toEqual({ over: false });
    expect(countBulkText('{"smsdata":[{"sendto":"1,2"}', 'object', 1)).toEqual({
      over: true,
      reason: 'messages',
      index: 0,
    });
  });
});
