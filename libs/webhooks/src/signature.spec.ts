import { execFileSync, spawnSync } from 'node:child_process';
import {
  computeSignature,
  EVENT_ID_HEADER,
  generateWebhookSecret,
  SIGNATURE_HEADER,
  signatureHeader,
  signedHeaders,
  verifySignature,
} from './signature';

const secret = 'whsec_5vGq0bHk2c1F3xq9T8m7oA4nZ2yR6wE0uI1pL3sD5fG';
const oldSecret = 'whsec_old-secret-still-in-its-grace-period-xxxxxxxxx';
// Multi-byte text and characters JSON escapes: the signature covers the exact bytes sent.
const body =
  '{"id":"5f1c0e52-3f7a-4d7e-9a51-0d2f6b0e3c11","type":"message.sent","data":{"body":"Grüße 👋 \\"hi\\""}}';
const t = 1767225600;
const at = (seconds: number) => new Date(seconds * 1000);

describe('signature', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const made = generateWebhookSecret();
    expect(made).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(made.slice(6), 'base64url')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(made);
  });

  it('signs t=…,v1=… with one v1 per secret, and carries the event id', () => {
    const header = signatureHeader(body, [secret, oldSecret], t);
    expect(header).toMatch(/^t=1767225600,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(signedHeaders('evt-1', body, [secret], at(t + 0.9))).toEqual({
      [SIGNATURE_HEADER]: `t=${t},v1=${computeSignature(secret, t, body)}`,
      [EVENT_ID_HEADER]: 'evt-1',
    });
    expect(() => signatureHeader(body, [], t)).toThrow('no signing secret');
  });

  it('verifies with either secret of a rotation, within the replay window only', () => {
    const header = signatureHeader(body, [secret, oldSecret], t);
    expect(verifySignature(header, body, [secret], 300, at(t))).toEqual({ ok: true, timestamp: t });
    expect(verifySignature(header, Buffer.from(body), [oldSecret], 300, at(t + 300))).toEqual({
      ok: true,
      timestamp: t,
    });
    expect(verifySignature(header, body, [secret], 300, at(t + 301))).toEqual({
      ok: false,
      reason: 'outside_tolerance',
    });
    expect(verifySignature(header, body, [secret], 300, at(t - 301))).toEqual({
      ok: false,
      reason: 'outside_tolerance',
    });
  });

  it('refuses another body, another secret, and malformed headers', () => {
    const header = signatureHeader(body, [secret], t);
    expect(verifySignature(header, `${body} `, [secret], 300, at(t))).toEqual({
      ok: false,
      reason: 'no_match',
    });
    expect(verifySignature(header, body, ['whsec_other'], 300, at(t))).toEqual({
      ok: false,
      reason: 'no_match',
    });
    // A changed timestamp breaks the signature even inside the window.
    const moved = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(verifySignature(moved, body, [secret], 300, at(t))).toEqual({ ok: false, reason: 'no_match' });
    for (const bad of [
      undefined,
      '',
      'v1=abc',
      `t=${t}`,
      `t=x,v1=${'0'.repeat(64)}`,
      `t=${t},v1=zz`,
      'x'.repeat(5000),
    ])
      expect(verifySignature(bad, body, [secret], 300, at(t))).toEqual({ ok: false, reason: 'malformed' });
    // Unknown schemes are ignored, as Stripe's receivers do, so a v2 can be added later.
    const withV0 = `t=${t},v0=${'0'.repeat(64)},v1=${computeSignature(secret, t, body)}`;
    expect(verifySignature(withV0, body, [secret], 300, at(t)).ok).toBe(true);
  });
});

describe('signature against independent implementations', () => {
  const signed = `${t}.${body}`;
  const ours = computeSignature(secret, t, body);

  it('matches `openssl dgst -sha256 -hmac`', () => {
    const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret], { input: Buffer.from(signed) });
    // "SHA2-256(stdin)= <hex>" (OpenSSL 3) or "(stdin)= <hex>" (1.1).
    expect(out.toString().trim().split('= ').pop()).toBe(ours);
  });

  const python = spawnSync('python3', ['--version']);
  const hasPython = python.status === 0;
  if (!hasPython)
    console.warn('python3 not found: the Python hmac cross-check is skipped, openssl still ran');
  (hasPython || process.env.CI ? it : it.skip)(
    "matches python3's hmac module, and python verifies our header",
    () => {
      const script = [
        'import hmac, hashlib, sys',
        'secret, header, body = sys.argv[1], sys.argv[2], sys.stdin.buffer.read()',
        'parts = [p.split("=", 1) for p in header.split(",")]',
        't = [v for k, v in parts if k == "t"][0]',
        'expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()',
        'ok = any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")',
        'print(expected, ok)',
      ].join('\n');
      const header = signatureHeader(body, [oldSecret, secret], t);
      const out = execFileSync('python3', ['-c', script, secret, header], { input: Buffer.from(body) });
      expect(out.toString().trim()).toBe(`${ours} True`);
    },
  );
});
