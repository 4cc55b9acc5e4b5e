import { batchBody } from './batch-body';
import { signedHeaders, verifySignature } from './signature';

describe('batchBody', () => {
  const first = '{"id":"a","type":"message.sent","data":{"body":"ü, \\"quoted\\""}}';
  const second = '{"id":"b","type":"message.delivered","data":{}}';

  it('wraps the stored envelopes, unchanged and in order, as {"events":[…]}', () => {
    const body = batchBody([first, second]);
    expect(body).toBe(`{"events":[${first},${second}]}`);
    expect(JSON.parse(body)).toEqual({ events: [JSON.parse(first), JSON.parse(second)] });
    expect(JSON.parse(batchBody([first]))).toEqual({ events: [JSON.parse(first)] });
  });

  it('refuses an empty batch (nothing to send)', () => {
    expect(() => batchBody([])).toThrow('at least one event');
  });

  it('is signed over the whole body', () => {
    const body = batchBody([first, second]);
    const headers = signedHeaders('a,b', body, ['whsec_test']);
    expect(verifySignature(headers['smsfleet-signature'], body, ['whsec_test']).ok).toBe(true);
    expect(verifySignature(headers['smsfleet-signature'], batchBody([first]), ['whsec_test']).ok).toBe(false);
  });
});
