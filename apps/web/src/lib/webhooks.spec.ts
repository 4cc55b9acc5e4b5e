import { deliveryTone, lastAnswer, webhookBody } from './webhooks';

describe('webhook subscription form', () => {
  const form = {
    url: ' https://example.com/hook ',
    description: ' crm ',
    events: ['message.delivered', 'message.sent'],
    deviceIds: [],
  };

  it('sends the trimmed URL and description, the events in the documented order, every phone by default', () => {
    expect(webhookBody(form)).toEqual({
      body: {
        url: 'https://example.com/hook',
        description: 'crm',
        events: ['message.sent', 'message.delivered'],
      },
    });
  });

  it('sends the chosen phones once each, in order', () => {
    expect(webhookBody({ ...form, deviceIds: [7, 3, 7] })).toMatchObject({ body: { device_ids: [3, 7] } });
  });

  it('names every problem: no URL, a URL that is not http(s), no event, an unknown event', () => {
    expect(webhookBody({ ...form, url: '  ', events: [] })).toEqual({
      problems: ['Give the URL that receives the events.', 'Choose at least one event.'],
    });
    expect(webhookBody({ ...form, url: 'ftp://example.com' })).toEqual({
      problems: ['The URL must start with https:// or http://.'],
    });
    expect(webhookBody({ ...form, events: ['message.exploded'] })).toEqual({
      problems: ['Choose at least one event.'],
    });
  });
});

describe('a delivery’s last answer', () => {
  const base = { status: 'delivered' as const, attempts: 1, last_error: null };

  it('reads the status code and the latency', () => {
    expect(lastAnswer({ ...base, last_status_code: 200, last_latency_ms: 12 })).toBe('HTTP 200 in 12 ms');
  });

  it('reads the error when no status came back, and says when nothing was tried', () => {
    expect(
      lastAnswer({
        ...base,
        status: 'failed',
        last_status_code: null,
        last_error: 'timeout',
        last_latency_ms: null,
      }),
    ).toBe('timeout');
    expect(
      lastAnswer({ ...base, status: 'pending', attempts: 0, last_status_code: null, last_latency_ms: null }),
    ).toBe('not tried yet');
  });

  it('colours delivered green, given up red, waiting yellow', () => {
    expect([deliveryTone('delivered'), deliveryTone('dead'), deliveryTone('pending')]).toEqual([
      'ok',
      'bad',
      'wait',
    ]);
  });
});
