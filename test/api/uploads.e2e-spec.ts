import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerPhone } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { IMAGES, postWithFile } from '../helpers/images';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const QUOTA = 100 * 1_024;

/** `file` on addsms with the local driver: checked by content, size-limited, stored, served, URL as body. */
describe('addsms with an image (local storage)', () => {
  let system: TestSystem;
  let alice: Account;
  let device: number;
  const uploadDir = mkdtempSync(join(tmpdir(), 'smsfleet-uploads-'));

  beforeAll(async () => {
    system = await TestSystem.start(['api'], {
      UPLOAD_DIR: uploadDir,
      UPLOAD_MAX_BYTES: String(64 * 1_024),
      UPLOAD_QUOTA_BYTES_PER_ACCOUNT: String(QUOTA),
      UPLOAD_RETENTION_DAYS: '30',
      UPLOAD_SWEEP_INTERVAL_MS: '300',
    });
    alice = system.createAccount();
    device = (await registerPhone(system.apiUrl, alice.email, alice.password, 'wa')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  const addsms = (
    file: { data: Buffer; name: string; type: string },
    extra: Record<string, string | number> = {},
  ) =>
    postWithFile(
      `${system.apiUrl}/getdata/addsms`,
      { token: alice.token, sendto: '+4915752982212', device_id: device, sim: 2, ...extra },
      file,
    );
  const bodyOf = async (id: number) =>
    (await system.query<{ body: string }>(`SELECT body FROM messages WHERE id = $1`, [id]))[0].body;
  const state = async () => ({
    files: readdirSync(uploadDir).length,
    messages: (await system.query(`SELECT count(*)::int AS n FROM messages`))[0],
  });

  it.each(Object.entries(IMAGES))(
    'stores a %s, serves it, and its URL replaces the body',
    async (kind, data) => {
      // The declared name and type say nothing: the content decides.
      const answer = await addsms({ data, name: 'upload.bin', type: 'application/octet-stream' });
      expect(answer).toMatchObject({ httpStatus: 200, error: 0, sms_id: expect.any(Number) });
      const url = await bodyOf(answer.sms_id as number);
      const ext = kind === 'jpeg' ? 'jpg' : kind;
      expect(url).toMatch(new RegExp(`^${system.apiUrl}/files/[0-9a-f-]{36}\\.${ext}$`));
      const served = await fetch(url);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe(kind === 'jpeg' ? 'image/jpeg' : `image/${kind}`);
      expect(Buffer.from(await served.arrayBuffer()).equals(data)).toBe(true);
    },
  );

  it('replaces a body that was sent along', async () => {
    const answer = await addsms(
      { data: IMAGES.png, name: 'a.png', type: 'image/png' },
      { body: 'see picture' },
    );
    expect(await bodyOf(answer.sms_id as number)).toMatch(/\/files\/.+\.png$/);
  });

  it('rejects a fake image (text named .png, declared image/png), storing nothing', async () => {
    const before = await state();
    const answer = await addsms({
      data: Buffer.from('I am text, not a picture'),
      name: 'cat.png',
      type: 'image/png',
    });
    expect(answer).toEqual({
      httpStatus: 200,
      error: 1,
      code: 'validation',
      message: 'file must be a JPEG, PNG, WebP or GIF image (checked by its content)',
    });
    expect(await state()).toEqual(before);
  });

  it('rejects an image over the size limit, storing nothing', async () => {
    const before = await state();
    const big = Buffer.concat([IMAGES.png, Buffer.alloc(100 * 1_024, 1)]);
    const answer = await addsms({ data: big, name: 'big.png', type: 'image/png' });
    expect(answer).toMatchObject({ httpStatus: 200, error: 1, code: 'payload_too_large' });
    expect(await state()).toEqual(before);
  });

  it('rejects `file` sent as a text field, and stores nothing when another field or the device is bad', async () => {
    const before = await state();
    const text = await getdata(
      system.apiUrl,
      'addsms',
      {
        token: alice.token,
        sendto: '+4915752982212',
        device_id: device,
        file: 'http://example.com/cat.png',
      },
      'form',
    );
    expect(text.body).toMatchObject({
      error: 1,
      code: 'validation',
      message: expect.stringMatching(/multipart/),
    });
    const bad = await addsms({ data: IMAGES.gif, name: 'a.gif', type: 'image/gif' }, { sim: 9 });
    expect(bad).toMatchObject({ error: 1, code: 'validation', message: expect.stringMatching(/sim/) });
    const unknownDevice = await addsms(
      { data: IMAGES.gif, name: 'a.gif', type: 'image/gif' },
      { device_id: 999_999 },
    );
    expect(unknownDevice).toMatchObject({ error: 1, code: 'not_found' });
    expect(await state()).toEqual(before);
  });

  it('answers 404 for a file that does not exist or a name that is not ours', async () => {
    expect((await fetch(`${system.apiUrl}/files/00000000-0000-0000-0000-000000000000.png`)).status).toBe(404);
    expect((await fetch(`${system.apiUrl}/files/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
  });

  it('counts uploads against the account’s quota, concurrent ones too, and stores nothing past it', async () => {
    const dora = system.createAccount();
    const doraDevice = (await registerPhone(system.apiUrl, dora.email, dora.password, 'quota')).deviceId;
    const image = Buffer.concat([IMAGES.gif, Buffer.alloc(30 * 1_024, 7)]);
    const before = await state();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        postWithFile(
          `${system.apiUrl}/getdata/addsms`,
          { token: dora.token, sendto: '+4915752982212', device_id: doraDevice },
          { data: image, name: 'q.gif', type: 'image/gif' },
        ),
      ),
    );
    // 30 KB each against 100 KB: three fit.
    expect(answers.filter((a) => a.error === 0)).toHaveLength(3);
    for (const refused of answers.filter((a) => a.error !== 0))
      expect(refused).toMatchObject({
        error: 1,
        code: 'validation',
        message: expect.stringMatching(/quota/),
      });
    const after = await state();
    expect(after.files - before.files).toBe(3);
    // Another account's quota is its own.
    expect(await addsms({ data: IMAGES.png, name: 'a.png', type: 'image/png' })).toMatchObject({ error: 0 });
  });

  it('deletes uploads past their retention, file and row, and leaves the others', async () => {
    const kept = await addsms({ data: IMAGES.webp, name: 'k.webp', type: 'image/webp' });
    const old = await addsms({ data: IMAGES.jpeg, name: 'o.jpg', type: 'image/jpeg' });
    const [keptUrl, oldUrl] = [await bodyOf(kept.sms_id as number), await bodyOf(old.sms_id as number)];
    const oldKey = oldUrl.split('/').pop() as string;
    await system.query(`UPDATE uploads SET created_at = now() - interval '31 days' WHERE key = $1`, [oldKey]);
    // The sweep deletes the file, then the row in its transaction's commit: a moment apart, so wait for both.
    await waitFor(
      'the old upload deleted, file and row',
      async () =>
        (await fetch(oldUrl)).status === 404 &&
        (await system.query(`SELECT 1 FROM uploads WHERE key = $1`, [oldKey])).length === 0,
      10_000,
      200,
    );
    expect((await fetch(keptUrl)).status).toBe(200);
    expect(readdirSync(uploadDir)).not.toContain(oldKey);
  });
});
