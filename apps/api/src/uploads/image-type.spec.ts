import { detectImageType } from './image-type';

describe('detectImageType', () => {
  it.each([
    ['jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'image/jpeg'],
    ['png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'image/png'],
    ['gif87a', Buffer.from('GIF87a\x01\x00', 'latin1'), 'image/gif'],
    ['gif89a', Buffer.from('GIF89a\x01\x00', 'latin1'), 'image/gif'],
    ['webp', Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1'), 'image/webp'],
  ])('knows %s by its first bytes', (_name, data, contentType) => {
    expect(detectImageType(data)?.contentType).toBe(contentType);
  });

  it.each([
    ['text named like a picture', Buffer.from('hello, I am not a png')],
    ['a PDF', Buffer.from('%PDF-1.7\n')],
    ['a RIFF that is a WAV', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1')],
    ['a truncated PNG signature', Buffer.from([0x89, 0x50, 0x4e])],
    ['nothing', Buffer.alloc(0)],
  ])('rejects %s', (_name, data) => {
    expect(detectImageType(data)).toBeUndefined();
  });
});
