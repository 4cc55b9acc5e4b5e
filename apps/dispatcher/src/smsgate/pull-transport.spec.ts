import { SmsPayload } from '@smsfleet/contracts';
import { DeliveryAnswer } from '../session/session-transport';
import { PhoneWaker, PullTransport } from './pull-transport';

const payload = (id: number): SmsPayload => ({
  id,
  sendto: '+4915700000000',
  body: 'x',
  sim: 0,
  urgent: false,
  validUntil: new Date(Date.now() + 60_000).toISOString(),
});
const flush = () => new Promise((resolve) => setImmediate(resolve));

function build(stream = false) {
  const told = { local: 0, everywhere: 0 };
  const waker: PhoneWaker = {
    hasLocalStream: () => stream,
    tellLocal: () => void told.local++,
    tellEverywhere: () => void told.everywhere++,
  };
  return { transport: new PullTransport(7, waker), told };
}

describe('PullTransport', () => {
  it('is ready only during a pull, or with an event stream here', async () => {
    const { transport } = build();
    expect(transport.ready).toBe(false);
    let readyDuringPull = false;
    await transport.pull(async () => void (readyDuringPull = transport.ready));
    expect(readyDuringPull).toBe(true);
    expect(transport.ready).toBe(false);
    expect(build(true).transport.ready).toBe(true);
  });

  it('answers every pull with what is handed out until the phone reports it', async () => {
    const { transport } = build();
    const answers: DeliveryAnswer[] = [];
    const first = await transport.pull(async () => {
      transport.deliver(payload(1), 60_000, (answer) => answers.push(answer));
      transport.deliver(payload(2), 60_000, (answer) => answers.push(answer));
    });
    expect(first.map((p) => p.id)).toEqual([1, 2]);
    transport.reported([1]);
    expect(answers).toEqual([{ accepted: true }]);
    expect((await transport.pull(async () => undefined)).map((p) => p.id)).toEqual([2]);
    transport.disconnect();
  });

  it('times a message out once, and forgets it', async () => {
    jest.useFakeTimers();
    try {
      const { transport } = build();
      const answers: DeliveryAnswer[] = [];
      await transport.pull(async () =>
        transport.deliver(payload(3), 1_000, (answer) => answers.push(answer)),
      );
      jest.advanceTimersByTime(1_000);
      expect(answers).toEqual([{ timedOut: true }]);
      transport.reported([3]);
      expect(answers).toHaveLength(1);
      expect(transport.outstanding).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a report that came before its message was handed out here acknowledges it at once', () => {
    const { transport } = build();
    transport.reported([4]);
    const answers: DeliveryAnswer[] = [];
    transport.deliver(payload(4), 60_000, (answer) => answers.push(answer));
    expect(answers).toEqual([{ accepted: true }]);
    expect(transport.outstanding).toBe(0);
  });

  it('wakes a phone with a stream here once for messages handed out together, and nudges through the signal', async () => {
    const { transport, told } = build(true);
    for (const id of [5, 6, 7]) transport.deliver(payload(id), 60_000, () => undefined);
    await flush();
    expect(told.local).toBe(1);
    transport.nudge();
    expect(told.everywhere).toBe(1);
    transport.disconnect();
  });
});
