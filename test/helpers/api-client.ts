/** Calls `/getdata/<method>` the way real clients do: GET with a query string, or POST with a body. */
export async function getdata(
  baseUrl: string,
  method: string,
  params: Record<string, string | number | boolean>,
  encoding: 'get' | 'form' | 'json' | 'multipart' = 'get',
): Promise<{ status: number; body: Record<string, unknown> }> {
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
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
