import { ApiError } from '../common/api-error';
import { RequestParams } from '../common/request-params';
import { readBulkItems, readSmsData, unwrapDatajson } from './bulk-request';

const item = (extra: Record<string, unknown> = {}) => ({
  sendto: '+4915752982212',
  body: 'hi',
  device_id: 260,
  ...extra,
});

describe('addalotofsms request', () => {
  it('finds the token and smsdata inside datajson text', () => {
    const params = unwrapDatajson(
      new RequestParams(
        { token: 'outer' },
        { datajson: JSON.stringify({ token: 'inner', smsdata: [item()] }) },
      ),
    );
    expect(params.optionalString('token', 100)).toBe('inner');
    expect(readSmsData(params).items).toHaveLength(1);
  });

  it('takes the object itself as the body, and smsdata as JSON text in a form', () => {
    expect(
      readSmsData(unwrapDatajson(new RequestParams({}, { smsdata: [item(), item()] }))).items,
    ).toHaveLength(2);
    expect(readSmsData(new RequestParams({}, { smsdata: JSON.stringify([item()]) })).items).toHaveLength(1);
  });

  it('reads every item, flattening several numbers, in order', () => {
    const messages = readBulkItems(
      {
        items: [
          item({ sendto: '+4915700000001,+4915700000002', sim: '1', urgent: 'true', customerId: '5' }),
          item(),
        ],
        fromQueryString: false,
      },
      'UTC',
      100,
    );
    expect(messages.map((m) => [m.recipient.phone, m.sim, m.urgent, m.customerId])).toEqual([
      ['+4915700000001', 1, true, 5],
      ['+4915700000002', 1, true, 5],
      ['+4915752982212', 0, false, undefined],
    ]);
  });

  it('names every bad item by index and field', () => {
    let caught: ApiError | undefined;
    try {
      readBulkItems(
        {
          items: [item(), item({ body: 'x'.repeat(101) }), null, item({ device_id: 'abc', sim: 9 })],
          fromQueryString: false,
        },
        'UTC',
        100,
      );
    } catch (error) {
      caught = error as ApiError;
    }
    expect(caught?.code).toBe('validation');
    expect(caught?.items).toEqual([
      { index: 1, field: 'body', message: 'body is too long (101 characters, at most 100)' },
      { index: 2, field: 'item', message: 'must be an object {sendto, body, device_id, …}' },
      { index: 3, field: 'device_id', message: 'device_id must be a whole number (got "abc")' },
    ]);
    expect(caught?.message).toMatch(/^3 item\(s\) rejected, nothing was saved: item 1 \(body\)/);
  });

  it('keeps the message short when many items are bad', () => {
    let caught: ApiError | undefined;
    try {
      readBulkItems(
        { items: Array.from({ length: 500 }, () => item({ sendto: 'x' })), fromQueryString: false },
        'UTC',
        100,
      );
    } catch (error) {
      caught = error as ApiError;
    }
    expect(caught?.items).toHaveLength(500);
    expect(caught?.message).toMatch(/; and 480 more$/);
  });

  it('restores a + that a GET query string turned into a space inside datajson', () => {
    const params = unwrapDatajson(
      new RequestParams(
        { datajson: '{"smsdata":[{"sendto":" 4915752982212","body":"x","device_id":1}]}' },
        undefined,
      ),
    );
    const [message] = readBulkItems(readSmsData(params), 'UTC', 100);
    expect(message.recipient).toEqual({ sendto: '+4915752982212', phone: '+4915752982212' });
  });

  it('refuses at the item that passes the cap on messages, before reading any item after it', () => {
    const thousand = Array.from({ length: 1_000 }, (_, i) => `+49157${String(i).padStart(7, '0')}`).join(',');
    let readAfterCap = 0;
    const untouchable = Object.defineProperty({}, 'sendto', {
      enumerable: true,
      get: () => {
        readAfterCap++;
        return '+4915700000001';
      },
    });
    const items: unknown[] = [
      ...Array.from({ length: 10 }, () => item({ sendto: thousand })),
      item({ sendto: '+4915700000001,+4915700000002' }),
      untouchable,
    ];
    expect(() => readBulkItems({ items, fromQueryString: false }, 'UTC', 100)).toThrow(
      'smsdata makes more than 10000 messages (item 10 passes the cap); at most 10000 per request',
    );
    expect(readAfterCap).toBe(0);
  });

  it('counts the numbers of a huge sendto only up to the cap', () => {
    const huge = ','.repeat(5_000_000);
    expect(() =>
      readBulkItems({ items: [item({ sendto: huge })], fromQueryString: false }, 'UTC', 100),
    ).toThrow(/item 0 passes the cap/);
  });
});
