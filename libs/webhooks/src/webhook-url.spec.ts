import fc from 'fast-check';
import { InvalidInput } from '@smsfleet/validation';
import { parseWebhookUrl, WEBHOOK_URL_MAX_LENGTH } from './webhook-url';

function refusal(value: unknown): string {
  try {
    parseWebhookUrl(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).field).toBe('url');
    return (error as InvalidInput).message;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('parseWebhookUrl', () => {
  it('accepts http and https URLs, with their port, path and query', () => {
    expect(parseWebhookUrl('https://hooks.example.com/sms?key=abc')).toEqual({
      href: 'https://hooks.example.com/sms?key=abc',
      protocol: 'https:',
      hostname: 'hooks.example.com',
      port: 443,
      ipFamily: 0,
      path: '/sms?key=abc',
    });
    expect(parseWebhookUrl('http://example.com')).toMatchObject({ port: 80, path: '/' });
    expect(parseWebhookUrl('HTTP://Example.COM:8080/In')).toMatchObject({
      href: 'http://example.com:8080/In',
      protocol: 'http:',
      hostname: 'example.com',
      port: 8080,
    });
  });

  it('tells IP literals apart, normalised as they will be connected to', () => {
    expect(parseWebhookUrl('http://203.0.114.7:81/x')).toMatchObject({
      hostname: '203.0.114.7',
      ipFamily: 4,
    });
    expect(parseWebhookUrl('http://[2001:db8::1]/')).toMatchObject({ hostname: '2001:db8::1', ipFamily: 6 });
    // Shorthand and mapped forms reach the address policy in their canonical form.
    expect(parseWebhookUrl('http://2130706433/')).toMatchObject({ hostname: '127.0.0.1', ipFamily: 4 });
    expect(parseWebhookUrl('http://[::ffff:127.0.0.1]/')).toMatchObject({
      hostname: '::ffff:7f00:1',
      ipFamily: 6,
    });
    expect(parseWebhookUrl('https://bücher.example/')).toMatchObject({ hostname: 'xn--bcher-kva.example' });
  });

  it('refuses what is not text, empty or too long', () => {
    expect(refusal(42)).toBe('url must be text');
    expect(refusal(null)).toBe('url must be text');
    expect(refusal('')).toBe('url is required');
    const long = `https://example.com/${'a'.repeat(WEBHOOK_URL_MAX_LENGTH)}`;
    expect(refusal(long)).toMatch(/^url is too long \(\d+ characters, at most 2048\)$/);
    expect(parseWebhookUrl(`https://example.com/${'a'.repeat(WEBHOOK_URL_MAX_LENGTH - 20)}`).port).toBe(443);
  });

  it('refuses other schemes and relative URLs', () => {
    for (const url of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'gopher://x/',
      '/hooks',
      'example.com/x',
    ])
      expect(refusal(url)).toBe('url must be an absolute http:// or https:// URL');
    expect(refusal('http://')).toBe('url is not a valid URL');
    expect(refusal('http://exa mple.com')).toMatch(/spaces or control characters/);
  });

  it('refuses credentials, fragments and port 0, without echoing the value', () => {
    const withPassword = refusal('https://user:s3cret@example.com/');
    expect(withPassword).toMatch(/user name or password/);
    expect(withPassword).not.toContain('s3cret');
    expect(refusal('https://user@example.com/')).toMatch(/user name or password/);
    expect(refusal('https://example.com/#part')).toMatch(/fragment/);
    expect(refusal('https://example.com:0/')).toMatch(/port 0/);
    expect(refusal('https://example.com:65536/')).toBe('url is not a valid URL');
  });

  it('refuses NUL, control characters and whitespace the parser would silently drop', () => {
    for (const url of [
      'https://example.com/\u0000',
      'https://exa\tmple.com/',
      'https://example.com/a\nb',
      ' https://example.com/',
      'https://example.com/\u007f',
      'https://example.com/\u2028',
    ])
      expect(refusal(url)).toBe('url may not contain spaces or control characters (percent-encode them)');
  });

  it('answers any text with a URL or an InvalidInput, never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.webUrl(),
          fc.string().map((s) => `http://${s}`),
        ),
        (text) => {
          try {
            const url = parseWebhookUrl(text);
            expect(['http:', 'https:']).toContain(url.protocol);
            expect(url.href.length).toBeLessThanOrEqual(WEBHOOK_URL_MAX_LENGTH);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidInput);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
