import { connect } from 'node:net';
import { getdata, postJson } from '../helpers/api-client';
import { multipartBody, rawRequest } from '../helpers/raw-http';
import { Account, TestSystem } from '../harness/test-system';
import { registerPhone } from '../../tools/simulator/fleet';

const REQUEST_TIMEOUT_MS = 2_000;
/** The largest bulk body allowed, and the smallest budget for it: one such request. */
const LARGE_BODIES_BUDGET = 48 * 1_048_576;

/**
 * Bodies are bounded before authentication (security review H3, L3): multipart fields by count and size,
 * every body by its declared and its counted length, large bodies by a shared budget, and every request
 * by the time it may take to arrive. Each refusal is in the API's format, and the API keeps serving.
 */
describe('request limits', () => {
  let system: TestSystem;
  let alice: Account;
  let device: number;

  beforeAll(async () => {
    system = await TestSystem.start(['api'], {
      API_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      API_LARGE_BODIES_IN_FLIGHT_BYTES: String(LARGE_BODIES_BUDGET),
      API_BULK_BODY_LIMIT_BYTES: String(LARGE_BODIES_BUDGET),
    });
    alice = system.createAccount();
    device = (await registerPhone(system.apiUrl, alice.email, alice.password, 'alice')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
  });

  async function postForm(method: string, form: FormData) {
    const response = await fetch(`${system.apiUrl}/getdata/${method}`, { method: 'POST', body: form });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const form = (fields: Record<string, string>) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    return data;
  };

  it('refuses a multipart field over its size instead of cutting it short', async () => {
    const answer = await postForm('savetag', form({ token: alice.token, title: 'x'.repeat(70_000) }));
    expect(answer).toEqual({
      status: 200,
      body: { error: 1, code: 'payload_too_large', message: 'field title is larger than 65536 bytes' },
    });
  });

  it('refuses more than 40 multipart fields, and a file where the route takes none', async () => {
    const many = form({ token: alice.token, title: 't' });
    for (let i = 0; i < 40; i++) many.append(`extra${i}`, 'x');
    expect((await postForm('savetag', many)).body).toMatchObject({ error: 1, code: 'payload_too_large' });
    const withFile = form({ token: alice.token, title: 't' });
    withFile.append('file', new Blob(['GIF89a']), 'a.gif');
    expect((await postForm('savetag', withFile)).body).toMatchObject({ error: 1, code: 'payload_too_large' });
  });

  it('counts the bytes of a multipart body sent without a length (chunked), and refuses it past 1 MB', async () => {
    const { contentType, body } = multipartBody(
      Array.from({ length: 30 }, (_, i): [string, string] => [`f${i}`, 'y'.repeat(60_000)]),
    );
    const stream = new ReadableStream({
      start(controller) {
        for (let at = 0; at < body.length; at += 16_384) controller.enqueue(body.subarray(at, at + 16_384));
        controller.close();
      },
    });
    const response = await fetch(`${system.apiUrl}/getdata/gettoken`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await response.json()).toEqual({
      error: 1,
      code: 'payload_too_large',
      message: 'request body larger than 1048576 bytes',
    });
  });

  it('answers a declared length over the limit at once, reading none of the body, and closes', async () => {
    const { contentType } = multipartBody([]);
    const answer = await rawRequest(
      system.apiUrl,
      `POST /getdata/gettoken HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: 40000000`,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 1, code: 'payload_too_large' });
    expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS);
    expect(answer.closed).toBe(true);
    const json = await rawRequest(
      system.apiUrl,
      `POST /v1/devices/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000`,
    );
    expect(json.status).toBe(413);
    expect(JSON.parse(json.body)).toMatchObject({ error: 1, code: 'payload_too_large' });
  });

  it('checks a bulk request’s token in the query or header before reading its body', async () => {
    for (const head of [
      `POST /getdata/addalotofsms?token=${'f'.repeat(64)} HTTP/1.1\r\nHost: x`,
      `POST /getdata/addalotofsms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'e'.repeat(64)}`,
    ]) {
      const answer = await rawRequest(
        system.apiUrl,
        `${head}\r\nContent-Type: application/json\r\nContent-Length: 40000000`,
      );
      expect(JSON.parse(answer.body)).toMatchObject({ error: 1, code: 'invalid_token' });
      expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS);
    }
    // The right token in the query, the items in the body: accepted.
    const response = await fetch(`${system.apiUrl}/getdata/addalotofsms?token=${alice.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ smsdata: [{ sendto: '+4915700000001', body: 'q', device_id: device }] }),
    });
    expect(await response.json()).toMatchObject({ error: 0, count: 1 });
  });

  it('takes the bulk route’s multipart as a few capped fields', async () => {
    const smsdata = Array.from({ length: 3 }, (_, i) => ({
      sendto: `+491570000010${i}`,
      body: 'm',
      device_id: device,
    }));
    const ok = await postForm(
      'addalotofsms',
      form({ datajson: JSON.stringify({ token: alice.token, smsdata }) }),
    );
    expect(ok.body).toMatchObject({ error: 0, count: 3 });
    const many = form({ datajson: JSON.stringify({ token: alice.token, smsdata }) });
    for (let i = 0; i < 8; i++) many.append(`extra${i}`, 'x');
    expect((await postForm('addalotofsms', many)).body).toMatchObject({
      error: 1,
      code: 'payload_too_large',
    });
    // A JSON part with a file name is a file (parts typed JSON without one are read as text: bulk-sms).
    const withFile = form({ token: alice.token });
    withFile.append(
      'datajson',
      new Blob([JSON.stringify({ smsdata })], { type: 'application/json' }),
      'datajson.json',
    );
    expect(await postForm('addalotofsms', withFile)).toEqual({
      status: 200,
      body: { error: 1, code: 'payload_too_large', message: 'this method takes no file' },
    });
  });

  it('cuts a slow body off with 408 after API_REQUEST_TIMEOUT_MS, while other requests are answered', async () => {
    const slow = rawRequest(
      system.apiUrl,
      `POST /getdata/savetag HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000`,
      Array.from({ length: 100 }, () => '          '),
      { gapMs: 500, waitMs: 15_000 },
    );
    const started = Date.now();
    const meanwhile = await getdata(system.apiUrl, 'getalldevices', { token: alice.token });
    expect(meanwhile.body).toMatchObject({ error: 0 });
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS);
    const answer = await slow;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 1, code: 'request_timeout' });
    expect(answer.closed).toBe(true);
    // Node checks request times every second.
    expect(answer.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
  });

  it('shares a budget of bytes among large bodies in flight: over it, "retry", and free again once they end', async () => {
    // A 40 MB bulk body on its way in (slowly) holds 40 MB of the 48 MB budget.
    const holder = connect(Number(new URL(system.apiUrl).port), '127.0.0.1');
    await new Promise((resolve) => holder.once('connect', resolve));
    holder.write(
      `POST /getdata/addalotofsms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{"smsdata":`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await rawRequest(
      system.apiUrl,
      `POST /getdata/addalotofsms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000000`,
    );
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 1, code: 'unavailable' });
    // Small requests never wait for the budget.
    expect((await getdata(system.apiUrl, 'getalldevices', { token: alice.token })).body).toMatchObject({
      error: 0,
    });
    holder.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const smsdata = Array.from({ length: 2_000 }, (_, i) => ({
      sendto: `+4915800${String(i).padStart(6, '0')}`,
      body: 'z'.repeat(600),
      device_id: device,
    }));
    const after = await postJson(system.apiUrl, 'addalotofsms', { token: alice.token, smsdata });
    expect(after.body).toMatchObject({ error: 0, count: 2_000 });
  });

  it('is still alive and serving', async () => {
    expect(system.processes.get('api')?.exitCode).toBeNull();
    expect((await fetch(`${system.apiUrl}/health/live`)).ok).toBe(true);
  });
});
