/** Calls `/getdata/<method>` with a JSON body and answers its body; an error answer throws with its message. */
export async function callGetdata(
  apiUrl: string,
  method: string,
  params: Record<string, string | number>,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${apiUrl}/getdata/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (body.error !== 0) throw new Error(`${method}: ${String(body.message)}`);
  return body;
}
