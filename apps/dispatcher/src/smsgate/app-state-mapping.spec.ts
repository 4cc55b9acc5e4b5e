import { AppStateReport } from './app-protocol';
import { reportsOfAppState } from './app-state-mapping';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const report = (patch: Partial<AppStateReport>, error: string | null = null): AppStateReport => ({
  id: '7',
  state: 'Pending',
  recipients: [{ phoneNumber: '+4915700000000', state: patch.state ?? 'Pending', error }],
  states: {},
  ...patch,
});
const codes = (r: AppStateReport) => reportsOfAppState(7, r, at(59)).map((x) => x.status);

describe('the app states as our status codes', () => {
  it('Pending reports nothing (the ack records 2); Processed → 2, Sent → 6, Delivered → 7', () => {
    expect(codes(report({ state: 'Pending' }))).toEqual([]);
    expect(codes(report({ state: 'Processed', states: { Processed: at(1) } }))).toEqual([2]);
    expect(codes(report({ state: 'Sent', states: { Processed: at(1), Sent: at(2) } }))).toEqual([2, 6]);
    const delivered = reportsOfAppState(
      7,
      report({ state: 'Delivered', states: { Processed: at(1), Sent: at(2), Delivered: at(3) } }),
    );
    expect(delivered).toEqual([
      { messageId: 7, status: 2, at: at(1).toISOString() },
      { messageId: 7, status: 6, at: at(2).toISOString() },
      { messageId: 7, status: 7, at: at(3).toISOString() },
    ]);
  });

  it('Failed after Sent is 8 (not delivered); before, the code the Android error names, with its text', () => {
    expect(
      codes(report({ state: 'Failed', states: { Sent: at(2), Failed: at(3) } }, 'Delivery result: 1')),
    ).toEqual([6, 8]);
    const cases: Array<[string, number]> = [
      ['Send result: RESULT_ERROR_GENERIC_FAILURE (Generic failure cause)', 9],
      ['Send result: RESULT_ERROR_NO_SERVICE (Failed because service is currently unavailable)', 10],
      ['Send result: RESULT_ERROR_NULL_PDU (Failed because no PDU provided)', 11],
      ['Send result: RESULT_ERROR_RADIO_OFF (Failed because radio was explicitly turned off)', 12],
      ['sendSMS: SIM 2 not found', 9],
      ['TTL expired', 202],
    ];
    for (const [error, code] of cases) {
      const [failed] = reportsOfAppState(7, report({ state: 'Failed', states: { Failed: at(3) } }, error));
      expect(failed).toEqual({ messageId: 7, status: code, at: at(3).toISOString(), error });
    }
  });

  it('a state without its time in the history takes the time it arrived', () => {
    expect(reportsOfAppState(7, report({ state: 'Sent' }), at(59))).toContainEqual({
      messageId: 7,
      status: 6,
      at: at(59).toISOString(),
    });
  });
});
