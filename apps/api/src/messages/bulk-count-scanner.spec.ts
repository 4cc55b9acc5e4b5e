import { BulkCountScanner, BulkCountVerdict } from './bulk-count-scanner';

/** The verdict on `body` fed in pieces of `piece` bytes (every split point matters to a byte scanner). */
function scan(body: string, cap: number, piece = body.length): BulkCountVerdict {
  const scanner = new BulkCountScanner(cap);
  const bytes = Buffer.from(body);
  for (let at = 0; at < bytes.length; at += piece) scanner.write(bytes.subarray(at, at + piece));
  return scanner.verdict;
}

const item = (sendto: unknown, extra = {}) => ({ device_id: 1, body: 'a, "b" \\ c', sendto, ...extra });

describe('BulkCountScanner', () => {
  it.each([1, 3, 7, 1000])(
    'counts numbers of each item the way readBulkItems does (pieces of %i bytes)',
    (piece) => {
      const body = JSON.stringify({
        token: 't',
        smsdata: [item('1,2,3'), item('4'), item(5), { sendto: [1, 2] }, 'x'],
      });
      // 3 + 1 + 1 + 1 messages; the string item counts none.
      expect(scan(body, 6, piece)).toEqual({ over: false });
      expect(scan(body, 5, piece)).toEqual({ over: true, reason: 'messages', index: 3 });
    },
  );

  it('finds the list inside datajson too, and stops at the item that passes the cap', () => {
    const body = JSON.stringify({ datajson: { token: 't', smsdata: Array(100).fill(item('1,2')) } });
    expect(scan(body, 10, 5)).toEqual({ over: true, reason: 'messages', index: 5 });
  });

  it.each([1, 5, 1000])(
    'counts the object inside a datajson string, decoding its escapes (pieces of %i bytes)',
    (piece) => {
      const inner = { token: 't', smsdata: [item('1,2'), item('3;4'), item('5,6'), item('7;8')] };
      // In the inner text, an escaped comma (which JSON.parse makes a comma) and an escaped backslash
      // followed by "u002c" (which it does not).
      const text = JSON.stringify(inner).replace('3;4', '3\\u002c4').replace('7;8', '7\\\\u002c8');
      expect(
        (JSON.parse(text) as { smsdata: Array<{ sendto: string }> }).smsdata.map((i) => i.sendto),
      ).toEqual(['1,2', '3,4', '5,6', '7\\u002c8']);
      const body = JSON.stringify({ datajson: text });
      expect(scan(body, 7, piece)).toEqual({ over: false });
      expect(scan(body, 5, piece)).toEqual({ over: true, reason: 'messages', index: 2 });
      expect(scan(JSON.stringify({ x: JSON.stringify(inner) }), 1, piece)).toEqual({ over: false });
    },
  );

  it('refuses more items than the cap before any of them ends', () => {
    expect(scan(`{"smsdata":[{},{},{},{"sendto":"1`, 3)).toEqual({ over: true, reason: 'items', index: 3 });
  });

  it('decodes escaped keys and commas as JSON.parse does', () => {
    const body = '{"\\u0073msdata":[{"send\\u0074o":"1\\u002c2\\u002C3"}]}';
    expect((JSON.parse(body) as { smsdata: Array<{ sendto: string }> }).smsdata[0].sendto).toBe('1,2,3');
    expect(scan(body, 2, 2)).toEqual({ over: true, reason: 'messages', index: 0 });
  });

  it('never counts more than the parser would see: a repeated sendto counts as its last, lists on their own', () => {
    expect(
      scan(
        JSON.stringify({ smsdata: [item('1,2,3,4,5', {})] }).replace('"sendto"', '"sendto":"1","sendto"'),
        5,
      ),
    ).toEqual({ over: false });
    expect(scan('{"smsdata":[{"sendto":"1,2,3,4,5,6"}],"sendto":"1,2,3,4,5,6,7"}', 6)).toEqual({
      over: false,
    });
    expect(scan('{"smsdata":[{"sendto":"1,2,3"}],"other":{"smsdata":[{"sendto":"1,2,3"}]}}', 3)).toEqual({
      over: false,
    });
    expect(scan('{"smsdata":[{"sendto":"1,2,3"}],"smsdata":[{"sendto":"1,2,3"}]}', 3)).toEqual({
      over: false,
    });
    expect(scan('{"smsdata":[{"body":"1,2,3,4","sendto":"1"}]}', 1)).toEqual({ over: false });
  });

  it('stops counting, without throwing, at what is not JSON', () => {
    expect(scan('}}]]{"smsdata":[{"sendto":"1,2,3"}]}', 1)).toEqual({ over: false });
    expect(scan('not json at all, "," ,,, [[[', 1)).toEqual({ over: false });
  });
});

describe('BulkCountScanner, lists as JSON text', () => {
  it('counts a smsdata string in a JSON body, at the root or inside datajson', () => {
    const list = JSON.stringify(Array(20).fill(item('1,2')));
    expect(scan(JSON.stringify({ token: 't', smsdata: list }), 10, 7)).toEqual({
      over: true,
      reason: 'messages',
      index: 5,
    });
    expect(scan(JSON.stringify({ datajson: JSON.stringify({ smsdata: list }) }), 10, 3)).toEqual({
      over: true,
      reason: 'messages',
      index: 5,
    });
    expect(scan(JSON.stringify({ token: 't', smsdata: list }), 40)).toEqual({ over: false });
  });
});
