import { FAILURE_STATUSES, MessageStatus, NON_FINAL_STATUSES, WAITING_STATUSES } from '@smsfleet/contracts';
import { statusIn, statusIs, statusIsNot } from './status-sql';

describe('status conditions in SQL', () => {
  it('writes a set as the literal list its partial indexes were built on', () => {
    expect(statusIn(WAITING_STATUSES)).toBe('status IN (1, 3)');
    expect(statusIn(NON_FINAL_STATUSES)).toBe('status IN (1, 2, 3, 6)');
    expect(statusIn(FAILURE_STATUSES, 'm.status')).toBe(
      'm.status IN (8, 9, 10, 11, 12, 100, 101, 201, 202, 203, 204, 205)',
    );
  });

  it('writes one status', () => {
    expect(statusIs(MessageStatus.New)).toBe('status = 1');
    expect(statusIsNot(MessageStatus.Income)).toBe('status <> 5');
  });
});
