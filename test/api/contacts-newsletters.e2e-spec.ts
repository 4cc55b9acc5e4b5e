import { registerPhone } from '../../tools/simulator/fleet';
import { ENCODINGS, getdata } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** savetag, savecontact, savepaket/createpaket, and the scheduler turning newsletters into messages. */
const CONTACT_CAP = 30;
const TAG_CAP = 40;

describe('tags, contacts and newsletters', () => {
  let system: TestSystem;
  let alice: Account;
  let bob: Account;
  let device: number;
  let bobDevice: number;
  let bobTag: number;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler'], {
      SCHEDULER_SWEEP_INTERVAL_MS: '200',
      CONTACTS_MAX_PER_ACCOUNT: String(CONTACT_CAP),
      TAGS_MAX_PER_ACCOUNT: String(TAG_CAP),
    });
    alice = system.createAccount();
    bob = system.createAccount();
    device = (await registerPhone(system.apiUrl, alice.email, alice.password, 'news')).deviceId;
    bobDevice = (await registerPhone(system.apiUrl, bob.email, bob.password, 'bob')).deviceId;
    bobTag = (await getdata(system.apiUrl, 'savetag', { token: bob.token, title: 'bob tag' })).body
      .tag_id as number;
  });

  afterAll(async () => {
    await system?.stop();
  });

  const call = (
    method: string,
    params: Record<string, string | number>,
    encoding: (typeof ENCODINGS)[number] = 'get',
  ) => getdata(system.apiUrl, method, { token: alice.token, ...params }, encoding);
  const tag = async (title: string) => (await call('savetag', { title })).body.tag_id as number;

  describe.each(ENCODINGS)('over %s', (encoding) => {
    it('savetag answers the new tag id and ignores extra fields', async () => {
      const answer = await call(
        'savetag',
        { title: `vip ${encoding}`, device_id: 1, sim: 0, body: 'x', tags: '1,2' },
        encoding,
      );
      expect(answer).toEqual({ status: 200, body: { error: 0, tag_id: expect.any(Number), message: 'OK' } });
    });

    it('savecontact answers the contact id; tag_id and fullname are accepted for ctag_id and name', async () => {
      const tagId = await tag(`contacts ${encoding}`);
      const first = await call(
        'savecontact',
        { phone: '+4915700000100', ctag_id: tagId, name: 'Ann' },
        encoding,
      );
      expect(first).toEqual({
        status: 200,
        body: { error: 0, contact_id: expect.any(Number), message: 'ok' },
      });
      const alias = await call(
        'savecontact',
        { phone: '+4915700000101', tag_id: String(tagId), fullname: 'Ben' },
        encoding,
      );
      expect(alias.body).toMatchObject({ error: 0, contact_id: expect.any(Number) });
      const rows = await system.query<{ name: string }>(`SELECT name FROM contacts WHERE id = $1`, [
        alias.body.contact_id,
      ]);
      expect(rows).toEqual([{ name: 'Ben' }]);
    });

    it('savepaket and createpaket answer both paket_id and paket', async () => {
      const tagId = await tag(`paket ${encoding}`);
      for (const method of ['savepaket', 'createpaket']) {
        const answer = await call(
          method,
          {
            title: 'Later',
            device_id: device,
            body: 'Sale',
            tags: String(tagId),
            sim: 1,
            time_to_send: '01.01.2099 9:00:00',
          },
          encoding,
        );
        expect(answer).toEqual({
          status: 200,
          body: { error: 0, message: 'OK', paket_id: expect.any(Number), paket: answer.body.paket_id },
        });
      }
    });
  });

  it('saving a known number with another tag gives the same contact one more tag', async () => {
    const [t1, t2] = [await tag('first'), await tag('second')];
    const a = await call('savecontact', { phone: '+49 157 00000200', ctag_id: t1, name: 'Cem' });
    const b = await call('savecontact', { phone: '0049157 00000200', ctag_id: t2 });
    expect(b.body.contact_id).toBe(a.body.contact_id);
    const tags = await system.query<{ tag_id: number }>(
      `SELECT tag_id FROM contact_tags WHERE contact_id = $1 ORDER BY tag_id`,
      [a.body.contact_id],
    );
    expect(tags.map((t) => t.tag_id)).toEqual([t1, t2]);
    expect(await system.query(`SELECT name FROM contacts WHERE id = $1`, [a.body.contact_id])).toEqual([
      { name: 'Cem' },
    ]);
  });

  it('a newsletter due now becomes one message per contact carrying any of its tags, each contact once', async () => {
    const [news, offers, other] = [await tag('news'), await tag('offers'), await tag('other')];
    const phones = ['+4915700000301', '+4915700000302', '+4915700000303', '+4915700000304'];
    await call('savecontact', { phone: phones[0], ctag_id: news });
    await call('savecontact', { phone: phones[1], ctag_id: offers });
    await call('savecontact', { phone: phones[2], ctag_id: news });
    await call('savecontact', { phone: phones[2], ctag_id: offers }); // both tags: still one message
    await call('savecontact', { phone: phones[3], ctag_id: other }); // not addressed
    // Bob's contact with the same number is not Alice's audience.
    await getdata(system.apiUrl, 'savecontact', { token: bob.token, phone: phones[0], ctag_id: bobTag });
    const paket = await call('savepaket', {
      title: 'Winter sale',
      device_id: device,
      body: 'All -50%',
      tags: `${news}, ${offers}`,
    });
    const paketId = paket.body.paket_id as number;

    const listed = await waitFor(
      'newsletter messages',
      async () => {
        const answer = await call('getallsms', { device_id: device, status: 1, limit: 100 });
        const rows = Object.values(answer.body.smss as Record<string, Record<string, unknown>>).filter(
          (r) => r.paketid === paketId,
        );
        return rows.length > 0 ? rows : undefined;
      },
      15_000,
    );
    expect(listed.map((r) => r.sendto).sort()).toEqual(phones.slice(0, 3));
    for (const row of listed) {
      expect(row).toMatchObject({
        body: 'All -50%',
        paketid: paketId,
        pakettitle: 'Winter sale',
        paketbody: 'All -50%',
        sim: 0,
      });
    }
    const [newsletter] = await system.query<{ message_count: number; expanded: boolean }>(
      `SELECT message_count, expanded_at IS NOT NULL AS expanded FROM newsletters WHERE id = $1`,
      [paketId],
    );
    expect(newsletter).toEqual({ message_count: 3, expanded: true });
    await waitFor(
      'enqueued',
      async () =>
        (
          await system.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM messages WHERE newsletter_id = $1 AND enqueued_at IS NOT NULL`,
            [paketId],
          )
        )[0].n === 3,
      10_000,
    );
    // Bob's account got nothing.
    expect((await getdata(system.apiUrl, 'getallsms', { token: bob.token, onlycount: 1 })).body.count).toBe(
      0,
    );
  });

  it(`keeps at most ${CONTACT_CAP} contacts per account (a newsletter makes one message each); known numbers still update`, async () => {
    const carol = system.createAccount();
    const tag = (await getdata(system.apiUrl, 'savetag', { token: carol.token, title: 'cap' })).body
      .tag_id as number;
    const save = (i: number) =>
      getdata(system.apiUrl, 'savecontact', {
        token: carol.token,
        phone: `+4915800${String(i).padStart(6, '0')}`,
        ctag_id: tag,
      });
    const answers = await Promise.all(Array.from({ length: CONTACT_CAP + 3 }, (_, i) => save(i)));
    expect(answers.filter((a) => a.body.error === 0)).toHaveLength(CONTACT_CAP);
    for (const refused of answers.filter((a) => a.body.error !== 0))
      expect(refused.body).toEqual({
        error: 1,
        code: 'validation',
        message: `the account keeps ${CONTACT_CAP} contacts, the most allowed; no new number can be saved`,
      });
    const saved = answers.findIndex((a) => a.body.error === 0);
    expect((await save(saved)).body).toMatchObject({ error: 0 });
    const [{ n }] = await system.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM contacts c JOIN users u ON u.id = c.user_id WHERE u.email = $1`,
      [carol.email],
    );
    expect(n).toBe(CONTACT_CAP);
  });

  it(`keeps at most ${TAG_CAP} tags per account, also when they are saved together`, async () => {
    const dave = system.createAccount();
    const answers = await Promise.all(
      Array.from({ length: TAG_CAP + 5 }, (_, i) =>
        getdata(system.apiUrl, 'savetag', { token: dave.token, title: `t${i}` }),
      ),
    );
    expect(answers.filter((a) => a.body.error === 0)).toHaveLength(TAG_CAP);
    for (const refused of answers.filter((a) => a.body.error !== 0))
      expect(refused.body).toEqual({
        error: 1,
        code: 'validation',
        message: `the account keeps ${TAG_CAP} tags, the most allowed; no new tag can be saved`,
      });
    const [{ n }] = await system.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tags t JOIN users u ON u.id = t.user_id WHERE u.email = $1`,
      [dave.email],
    );
    expect(n).toBe(TAG_CAP);
    // Another account is not affected by Dave's cap.
    expect(
      (await getdata(system.apiUrl, 'savetag', { token: bob.token, title: 'after' })).body,
    ).toMatchObject({
      error: 0,
    });
  });

  it('a newsletter for later waits until its time', async () => {
    const t = await tag('later');
    await call('savecontact', { phone: '+4915700000401', ctag_id: t });
    const paket = await call('createpaket', {
      title: 'Next year',
      device_id: device,
      body: 'Hi',
      tags: t,
      time_to_send: '01.01.2099 09:00:00',
    });
    const id = paket.body.paket_id as number;
    const [row] = await system.query<{ time_to_send: Date }>(
      `SELECT time_to_send FROM newsletters WHERE id = $1`,
      [id],
    );
    expect(row.time_to_send.toISOString()).toBe('2099-01-01T09:00:00.000Z');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await system.query(`SELECT id FROM messages WHERE newsletter_id = $1`, [id])).toEqual([]);
    // Its time comes: it is expanded.
    await system.query(`UPDATE newsletters SET time_to_send = now() WHERE id = $1`, [id]);
    await waitFor(
      'expanded',
      async () => (await system.query(`SELECT id FROM messages WHERE newsletter_id = $1`, [id])).length === 1,
      10_000,
    );
  });

  it.each([
    ['savetag', 'a missing title', () => ({}), 'validation', /title is required/],
    [
      'savetag',
      'a title that is too long',
      () => ({ title: 'x'.repeat(256) }),
      'validation',
      /title is too long/,
    ],
    ['savecontact', 'a missing phone', () => ({ ctag_id: bobTag }), 'validation', /phone is required/],
    [
      'savecontact',
      'a phone that is no number',
      () => ({ phone: 'Ann', ctag_id: bobTag }),
      'validation',
      /not a phone number/,
    ],
    [
      'savecontact',
      'a missing ctag_id',
      () => ({ phone: '+4915700000500' }),
      'validation',
      /ctag_id is required/,
    ],
    [
      'savecontact',
      "another account's tag",
      () => ({ phone: '+4915700000500', ctag_id: bobTag }),
      'not_found',
      /not found/,
    ],
    [
      'savecontact',
      'an unknown tag',
      () => ({ phone: '+4915700000500', ctag_id: 999999 }),
      'not_found',
      /not found/,
    ],
    [
      'savepaket',
      'a missing title',
      () => ({ device_id: device, body: 'x', tags: '1' }),
      'validation',
      /title is required/,
    ],
    [
      'savepaket',
      'a missing body',
      () => ({ title: 't', device_id: device, tags: '1' }),
      'validation',
      /body is required/,
    ],
    [
      'savepaket',
      'missing tags',
      () => ({ title: 't', device_id: device, body: 'x' }),
      'validation',
      /tags is required/,
    ],
    [
      'savepaket',
      'malformed tags',
      () => ({ title: 't', device_id: device, body: 'x', tags: '1,two' }),
      'validation',
      /tags must be tag ids/,
    ],
    [
      'savepaket',
      "another account's tag",
      () => ({ title: 't', device_id: device, body: 'x', tags: bobTag }),
      'not_found',
      /not found/,
    ],
    [
      'savepaket',
      "another account's device",
      () => ({ title: 't', device_id: bobDevice, body: 'x', tags: bobTag }),
      'not_found',
      /device_id/,
    ],
    [
      'savepaket',
      'a bad sim',
      () => ({ title: 't', device_id: device, body: 'x', tags: bobTag, sim: 8 }),
      'validation',
      /sim must be/,
    ],
    [
      'savepaket',
      'a bad time_to_send',
      () => ({ title: 't', device_id: device, body: 'x', tags: bobTag, time_to_send: '31.02.2030 10:00:00' }),
      'validation',
      /time_to_send must be a date/,
    ],
  ])('%s rejects %s, writing nothing', async (method, _name, params, code, message) => {
    const counts = async () =>
      system.query(
        `SELECT (SELECT count(*) FROM tags) AS t, (SELECT count(*) FROM contacts) AS c, (SELECT count(*) FROM newsletters) AS n`,
      );
    const before = await counts();
    expect((await call(method, params())).body).toEqual({
      error: 1,
      code,
      message: expect.stringMatching(message),
    });
    expect(await counts()).toEqual(before);
  });
});
