export interface ImageType {
  extension: 'jpg' | 'png' | 'webp' | 'gif';
  contentType: string;
}

/** The image type by its first bytes (magic numbers), whatever the upload's name or declared type says. */
export function detectImageType(data: Buffer): ImageType | undefined {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff)
    return { extension: 'jpg', contentType: 'image/jpeg' };
  if (data.length >= 8 && data.subarray(0, 8).equals(PNG_SIGNATURE))
    return { extension: 'png', contentType: 'image/png' };
  const head = data.subarray(0, 12).toString('latin1');
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a'))
    return { extension: 'gif', contentType: 'image/gif' };
  if (data.length >= 12 && head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP')
    return { extension: 'webp', contentType: 'image/webp' };
  return undefined;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Content types by the extension of a stored file's name (the local driver serves by name). */
export const CONTENT_TYPE_BY_EXTENSION: Readonly<Record<ImageType['extension'], string>> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};
