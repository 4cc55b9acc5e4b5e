import { canTransition, isFinalStatus, MessageStatus, statusRank, statusTitle } from './message-status';

describe('message status transitions', () => {
  it('moves forward along 1 → 2 → 6 → 7', () => {
    expect(canTransition(MessageStatus.New, MessageStatus.TakenFromServer)).toBe(true);
    expect(canTransition(MessageStatus.TakenFromServer, MessageStatus.SentByPhone)).toBe(true);
    expect(canTransition(MessageStatus.SentByPhone, MessageStatus.Delivered)).toBe(true);
  });

  it('may skip steps (a phone reports delivered before sent arrives)', () => {
    expect(canTransition(MessageStatus.New, MessageStatus.Delivered)).toBe(true);
  });

  it('never moves backwards: a late "sent" after "delivered" changes nothing', () => {
    expect(canTransition(MessageStatus.Delivered, MessageStatus.SentByPhone)).toBe(false);
    expect(canTransition(MessageStatus.SentByPhone, MessageStatus.TakenFromServer)).toBe(false);
  });

  it('keeps the first final word', () => {
    expect(canTransition(MessageStatus.Delivered, MessageStatus.NotDelivered)).toBe(false);
    expect(canTransition(MessageStatus.GenericFailure, MessageStatus.Delivered)).toBe(false);
    expect(canTransition(MessageStatus.Expired, MessageStatus.SentByPhone)).toBe(false);
  });

  it('repeating a status is not a transition', () => {
    expect(canTransition(MessageStatus.SentByPhone, MessageStatus.SentByPhone)).toBe(false);
  });

  it('knows which statuses are final', () => {
    expect([1, 2, 3, 6].map(isFinalStatus)).toEqual([false, false, false, false]);
    expect([5, 7, 8, 9, 10, 11, 12, 100, 101, 201, 202, 203, 204, 205].every(isFinalStatus)).toBe(true);
    expect(statusRank(MessageStatus.Queued)).toBeLessThan(statusRank(MessageStatus.TakenFromServer));
  });

  it('titles statuses as the original service does', () => {
    expect(statusTitle(7)).toBe('Delivered');
    expect(statusTitle(2)).toBe('Taken from Server');
    expect(statusTitle(999)).toBe('Unknown');
  });
});
