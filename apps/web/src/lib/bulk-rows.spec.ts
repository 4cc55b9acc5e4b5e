import { guessMapping, serverErrorsAsLines, validateRows } from './bulk-rows';

const defaults = {
  deviceId: 7,
  sim: 0,
  slotsByDevice: new Map([
    [7, [0, 1, 2, 3, 4, 5]],
    [8, [0, 1]],
  ]),
  maxBodyLength: 20,
};

describe('bulk file rows → addalotofsms items', () => {
  it('guesses the mapping from common header names, each column once', () => {
    expect(guessMapping(['Phone', 'Message', 'SIM', 'Send at', 'customer_id', 'extra'])).toEqual({
      sendto: 0,
      body: 1,
      sim: 2,
      timetosend: 3,
      customerid: 4,
    });
    expect(guessMapping(['foo', 'bar'])).toEqual({});
  });

  it('turns good rows into items with the defaults filled in', () => {
    const rows = [
      ['+4915752982212', 'hello', '', ''],
      ['0157 5298 2213', 'hi', '8', '1'],
    ];
    const result = validateRows(rows, { sendto: 0, body: 1, device_id: 2, sim: 3 }, defaults);
    expect(result).toEqual({
      errors: [],
      items: [
        { sendto: '+4915752982212', body: 'hello', device_id: 7, sim: 0 },
        { sendto: '0157 5298 2213', body: 'hi', device_id: 8, sim: 1 },
      ],
    });
  });

  it('names every bad row by its line in the file (the header is line 1) and sends nothing', () => {
    const rows = [
      ['+4915752982212', 'ok', '', '', '', ''],
      ['not a number', 'x', '', '', '', ''],
      ['+4915752982214', '', '', '', '', ''],
      ['+4915752982215', 'too long for the limit here', '99', '', '', ''],
      ['+4915752982216', 'x', '8', '3', 'tomorrow', 'abc'],
    ];
    const result = validateRows(
      rows,
      { sendto: 0, body: 1, device_id: 2, sim: 3, timetosend: 4, customerid: 5 },
      defaults,
    );
    expect(result.items).toEqual([]);
    expect(result.errors.map((e) => [e.line, e.field])).toEqual([
      [3, 'sendto'],
      [4, 'body'],
      [5, 'body'],
      [5, 'device_id'],
      [6, 'sim'],
      [6, 'timetosend'],
      [6, 'customerid'],
    ]);
  });

  it('asks for the number and text columns before checking rows, and refuses more than 10,000 rows', () => {
    expect(validateRows([['x']], {}, defaults).errors.map((e) => e.field)).toEqual(['sendto', 'body']);
    const many = Array.from({ length: 10_001 }, () => ['+4915752982212', 'x']);
    expect(validateRows(many, { sendto: 0, body: 1 }, defaults).errors).toEqual([
      { line: 1, field: 'row', message: 'at most 10,000 rows in one request (got 10,001)' },
    ]);
  });

  it('reads urgent flags and spreadsheet dates', () => {
    const rows = [['+4915752982212', 'x', 'yes', new Date('2030-01-02T03:04:00Z')]];
    const { items } = validateRows(rows, { sendto: 0, body: 1, urgent: 2, timetosend: 3 }, defaults);
    expect(items).toEqual([
      {
        sendto: '+4915752982212',
        body: 'x',
        device_id: 7,
        sim: 0,
        urgent: 1,
        timetosend: '2030-01-02 03:04:00',
      },
    ]);
  });

  it('maps the server’s refusal (by item index) to lines of the file', () => {
    expect(serverErrorsAsLines([{ index: 0, field: 'device_id', message: 'not found' }])).toEqual([
      { line: 2, field: 'device_id', message: 'not found' },
    ]);
  });
});
