import { ApiError } from '../common/api-error';
import { decodeCursor, encodeCursor } from './message-cursor';

describe('/v1/messages cursor', () => {
  it('round-trips an id, and no cursor means the first page', () => {
    expect(decodeCursor(encodeCursor(9_007_199_254_740_991))).toBe(9_007_199_254_740_991);
    expect(decodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });

  it.each(['12', 'bTow', 'bTotMQ', Buffer.from('m:1e9').toString('base64url'), 'a'.repeat(41), 'm:1'])(
    'refuses %s as validation',
    (cursor) => {
      expect(() => decodeCursor(cursor)).toThrow(ApiError);
    },
  );
});
