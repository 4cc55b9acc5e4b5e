import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { registerPhone } from '../../tools/simulator/fleet';
import { freePort } from '../harness/free-port';
import { IMAGES, postWithFile } from '../helpers/images';
import { Account, TestSystem } from '../harness/test-system';

/** The S3 driver against an S3-compatible server speaking the real protocol (s3rver, in this process). */
describe('addsms with an image (S3-compatible storage)', () => {
  let system: TestSystem;
  let s3: S3rver;
  let s3Url: string;
  let alice: Account;
  let device: number;
  const s3Dir = mkdtempSync(join(tmpdir(), 'smsfleet-s3-'));

  beforeAll(async () => {
    const port = await freePort();
    s3 = new S3rver({
      port,
      address: '127.0.0.1',
      silent: true,
      directory: s3Dir,
      configureBuckets: [{ name: 'pics', configs: [] }],
    });
    await s3.run();
    s3Url = `http://127.0.0.1:${port}`;
    system = await TestSystem.start(['api'], {
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: s3Url,
      S3_BUCKET: 'pics',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    });
    alice = system.createAccount();
    device = (await registerPhone(system.apiUrl, alice.email, alice.password, 'wa')).deviceId;
  });

  afterAll(async () => {
    await system?.stop();
    await s3?.close().catch(() => undefined);
    rmSync(s3Dir, { recursive: true, force: true });
  });

  it('puts the image into the bucket; its public URL becomes the body', async () => {
    const answer = await postWithFile(
      `${system.apiUrl}/getdata/addsms`,
      { token: alice.token, sendto: '+4915752982212', device_id: device, sim: 3 },
      { data: IMAGES.webp, name: 'x.webp', type: 'image/webp' },
    );
    expect(answer).toMatchObject({ httpStatus: 200, error: 0, sms_id: expect.any(Number) });
    const [{ body }] = await system.query<{ body: string }>(`SELECT body FROM messages WHERE id = $1`, [
      answer.sms_id,
    ]);
    expect(body).toMatch(new RegExp(`^${s3Url}/pics/[0-9a-f-]{36}\\.webp$`));
    const object = await fetch(body);
    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toBe('image/webp');
    expect(Buffer.from(await object.arrayBuffer()).equals(IMAGES.webp)).toBe(true);
  });

  it('answers "retry" and stores no message when the bucket is unreachable', async () => {
    // The last test of this file: the server stays down.
    await s3.close();
    const before = await system.query(`SELECT count(*)::int AS n FROM messages`);
    const answer = await postWithFile(
      `${system.apiUrl}/getdata/addsms`,
      { token: alice.token, sendto: '+4915752982212', device_id: device, sim: 3 },
      { data: IMAGES.png, name: 'x.png', type: 'image/png' },
    );
    expect(answer).toMatchObject({ httpStatus: 503, error: 1, code: 'unavailable' });
    expect(await system.query(`SELECT count(*)::int AS n FROM messages`)).toEqual(before);
  });
});
