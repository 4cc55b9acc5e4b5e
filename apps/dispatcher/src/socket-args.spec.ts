import { splitAck } from './socket-args';

describe('splitAck', () => {
  const ack = () => undefined;

  it('takes the payload and the ack', () => {
    expect(splitAck([{ id: 1 }, ack])).toEqual({ payload: { id: 1 }, ack });
  });

  it('keeps an array payload whole', () => {
    expect(splitAck([[{ id: 1 }, { id: 2 }], ack])).toEqual({ payload: [{ id: 1 }, { id: 2 }], ack });
  });

  it('reads an event without an ack', () => {
    expect(splitAck([{ id: 1 }])).toEqual({ payload: { id: 1 }, ack: undefined });
  });

  it('reads an ack without a payload as an undefined payload', () => {
    expect(splitAck([ack])).toEqual({ payload: undefined, ack });
  });

  it('gathers several payloads into an array, as Nest does', () => {
    expect(splitAck([1, 'two', ack])).toEqual({ payload: [1, 'two'], ack });
  });
});
