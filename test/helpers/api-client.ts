import type { Account } from '../harness/test-system';

export type Encoding = 'get' | 'form' | 'json' | 'multipart';
export const ENCODINGS: readonly Encoding[] = ['get', 'form', 'json', 'multipart'];

/** Calls `/getdata/<method>` the way real clients do: GET with a query string, or POST with a body. */
export async function getdata(
  baseUrl: string,
  method: string,
  params: Record<string, string | number | boolean>,
  encoding: Encoding = 'get',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { status, text } = await getdataText(baseUrl, method, params, encoding);
  return { status, body: JSON.parse(text) as Record<string, unknown> };
}

/** As getdata, answering the raw JSON text (to check key order on the wire). */
export async function getdataText(
  baseUrl: string,
  method: string,
  params: Record<string, string | number | boolean>,
  encoding: Encoding = 'get',
): Promise<{ status: number; text: string }> {
  const url = `${baseUrl}/getdata/${method}`;
  const strings = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  let response: Response;
  if (encoding === 'get') {
    response = await fetch(`${url}?${new URLSearchParams(strings)}`);
  } else if (encoding === 'form') {
    response = await fetch(url, { method: 'POST', body: new URLSearchParams(strings) });
  } else if (encoding === 'json') {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
  } else {
    const form = new FormData();
    for (const [key, value] of Object.entries(strings)) form.append(key, value);
    response = await fetch(url, { method: 'POST', body: form });
  }
  return { status: response.status, text: await response.text() };
}

/** POSTs any JSON value as the body (e.g. the bulk object without its `datajson` wrapper). */
export async function postJson(
  baseUrl: string,
  method: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/getdata/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** An answer's JSON, read loosely: each test states the shape it expects. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** A call to the `/v1` JSON API as this account; the status is the test's to check. */
export async function v1Call(
  apiUrl: string,
  account: Account,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${account.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}
