import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { l13Of } from '@smsfleet/invariants';
import { UsageError } from './cli-args';
import { readPhoneLedger, writePhoneLedger } from './ledger-files';
import { PhoneLedger } from './simulator/phone-ledger';

/** L13 (no message received by two phones) from phone ledger files, as `cli check --phone-ledger` reads them. */
describe('phone ledger files and L13', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'smsfleet-ledger-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function received(ledger: PhoneLedger, id: number, deviceId: number, repeat = false): void {
    ledger.received.push({ id, deviceId, at: Date.now(), repeat, urgent: false });
  }

  it('holds when each id reached one phone, repeats to that phone included', () => {
    const first = new PhoneLedger();
    const second = new PhoneLedger();
    received(first, 1, 10);
    received(first, 1, 10, true);
    received(second, 2, 11);
    const file = join(dir, 'one-phone-each.jsonl');
    writePhoneLedger(file, [first, second]);
    const summary = readPhoneLedger(file);
    expect(summary).toMatchObject({ received: 3, repeats: 1 });
    expect(l13Of(summary)).toEqual({
      id: 'L13',
      title: 'no message received by two phones',
      holds: true,
      counts: { idsWithDevice: 2, receivedByTwoPhones: 0 },
      examples: [],
    });
  });

  it('fails for an id that two phones received, across fleets, and names it', () => {
    const socketPhones = new PhoneLedger();
    const apps = new PhoneLedger();
    received(socketPhones, 5, 10);
    received(socketPhones, 6, 10);
    received(apps, 5, 12);
    const file = join(dir, 'moved-after-sent.jsonl');
    writePhoneLedger(file, [socketPhones, apps]);
    expect(l13Of(readPhoneLedger(file))).toMatchObject({
      holds: false,
      counts: { idsWithDevice: 2, receivedByTwoPhones: 1 },
      examples: [5],
    });
  });

  it('judges nothing from lines without their device (ledgers older than L13), and refuses a bad device', () => {
    const old = join(dir, 'old.jsonl');
    writeFileSync(
      old,
      '{"event":"received","id":1,"repeat":false}\n{"event":"received","id":1,"repeat":true}\n',
    );
    expect(l13Of(readPhoneLedger(old))).toMatchObject({
      holds: true,
      counts: { idsWithDevice: 0, receivedByTwoPhones: 0 },
    });
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"event":"received","id":1,"repeat":false,"device":"10"}\n');
    expect(() => readPhoneLedger(bad)).toThrow(UsageError);
  });
});
