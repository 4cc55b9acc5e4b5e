/** Tiny files whose first bytes are those of real images (the server checks content, not names). */
export const IMAGES = {
  png: Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from('IHDR-rest-of-a-png'),
  ]),
  jpeg: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JFIF-rest-of-a-jpeg')]),
  gif: Buffer.from('GIF89a-rest-of-a-gif', 'latin1'),
  webp: Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 rest-of-a-webp', 'latin1'),
} as const;

/** POSTs a multipart form with fields and one file. */
export async function postWithFile(
  url: string,
  fields: Record<string, string | number>,
  file: { data: Buffer; name: string; type: string },
  fileField = 'file',
): Promise<Record<string, unknown>> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
  form.append(fileField, new Blob([new Uint8Array(file.data)], { type: file.type }), file.name);
  const response = await fetch(url, { method: 'POST', body: form });
  return { httpStatus: response.status, ...((await response.json()) as Record<string, unknown>) };
}
