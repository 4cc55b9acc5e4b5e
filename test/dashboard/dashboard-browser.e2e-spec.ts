import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { DeviceEvent, DeviceSettings } from '@smsfleet/contracts';
import { registerPhone } from '../../tools/simulator/fleet';
import { connectDevice } from '../helpers/device-socket';
import { independentlyVerified, Receiver } from '../helpers/webhook-receiver';
import { xlsxFile } from '../helpers/xlsx-file';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** Screenshots of every page, kept as the suite's artifacts (gitignored). */
const ARTIFACTS = join(__dirname, '..', '..', 'artifacts', 'dashboard');
const CHROMIUM = '/usr/bin/chromium';

let system: TestSystem;
let a: Account;
let b: Account;
let context: BrowserContext;
let page: Page;
let profile: string;
let phone: Socket;
const settingsSeen: DeviceSettings[] = [];
/** What the live phone was given to send, by message id. */
const bodiesAtPhone = new Map<number, string>();
/** A 1×1 PNG: the api recognises images by their content. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
let livePhone: number;
let offlinePhone: number;
let bMessage: number;
let bWebhook: number;
/** A real receiver for the webhooks page's subscription. */
let receiver: Receiver;
const HOOK_PATH = '/dashboard-hook';

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const go = (path: string) => page.goto(`${system.apiUrl}${path}`);
/** Client-side navigation through the page's own links: no reload. */
const nav = (label: string) =>
  page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: label }).click();

function csv(rows: string[][]): string {
  return rows
    .map((row) => row.map((cell) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(','))
    .join('\n');
}

/**
 * The dashboard in Debian's Chromium (playwright-core) against the real system: four apps as processes,
 * a simulated phone that reports sent then delivered, the built app served by the api.
 */
describe('dashboard in a real browser', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    receiver = new Receiver();
    await receiver.start();
    receiver.script(HOOK_PATH, [{ status: 200 }]);
    // The receiver is on this host: allowed as the webhooks suites allow it; the worker looks often.
    system = await TestSystem.start(undefined, {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_POLL_MS: '100',
    });
    a = system.createAccount(undefined, 'alpha dashboard password');
    b = system.createAccount();
    const live = await registerPhone(system.apiUrl, a.email, a.password, 'Shop phone');
    offlinePhone = (await registerPhone(system.apiUrl, a.email, a.password, 'Spare phone')).deviceId;
    livePhone = live.deviceId;
    phone = await connectDevice(system.dispatcherUrl, live, (sms) => {
      bodiesAtPhone.set(sms.id, sms.body);
      // Sent at once, delivered a moment later: the page shows the row moving.
      phone.emit(DeviceEvent.status, [{ id: sms.id, status: 6, at: new Date().toISOString() }]);
      setTimeout(
        () => phone.emit(DeviceEvent.status, [{ id: sms.id, status: 7, at: new Date().toISOString() }]),
        1_500,
      );
    });
    phone.on(DeviceEvent.settings, (settings: DeviceSettings) => settingsSeen.push(settings));
    const bPhone = await registerPhone(system.apiUrl, b.email, b.password, 'bravo phone');
    const sent = await fetch(`${system.apiUrl}/getdata/addsms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.token}` },
      body: JSON.stringify({ sendto: '+4917000000001', body: 'bravo secret', device_id: bPhone.deviceId }),
    });
    bMessage = ((await sent.json()) as { sms_id: number }).sms_id;
    const hook = await fetch(`${system.apiUrl}/v1/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.token}` },
      body: JSON.stringify({ url: receiver.url('/bravo-hook'), events: ['message.sent'] }),
    });
    bWebhook = ((await hook.json()) as { webhook: { id: number } }).webhook.id;
    profile = mkdtempSync(join(tmpdir(), 'smsfleet-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    phone?.disconnect();
    await system?.stop();
    await receiver?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('signs in with email and password', async () => {
    await go('/');
    await page.getByLabel('Email').fill(a.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Login or password incorrect').waitFor();
    await shot('sign-in-refused');
    await page.getByLabel('Password').fill(a.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'smsfleet_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.getByTestId('phones-online').getByText('1 / 2').waitFor();
    await shot('overview');
  });

  it('sends to a phone and watches the row reach Delivered without reloading', async () => {
    await nav('Send');
    await page.getByRole('combobox', { name: /^Phone/ }).selectOption(String(livePhone));
    await page.getByLabel(/^To/).fill('+4915752982212');
    await page.getByLabel('Text', { exact: true }).fill('hello from the dashboard');
    await shot('send');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const saved = await page.getByTestId('sent').textContent();
    const id = Number(/#(\d+)/.exec(saved ?? '')?.[1]);
    expect(id).toBeGreaterThan(0);
    // A marker that a reload would wipe.
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    await nav('Messages');
    const row = page.getByTestId(`message-${id}`);
    await row.waitFor();
    await row.getByTestId('status').getByText('Delivered', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await shot('messages');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: `Message #${id}` }).waitFor();
    await page.getByRole('list').getByText('Delivered').waitFor();
    await shot('message-detail');
  });

  it('sends an image: the phone gets its link, which serves the picture', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smsfleet-image-'));
    writeFileSync(join(dir, 'dot.png'), PNG);
    try {
      await nav('Send');
      await page.getByRole('combobox', { name: /^Phone/ }).selectOption(String(livePhone));
      await page.getByLabel(/^To/).fill('+4915752982213');
      // Text typed before the image was chosen is left out, even past the length a text may have.
      await page.getByLabel(/^Text/).fill('x'.repeat(5_000));
      await page.getByLabel(/^Image/).setInputFiles(join(dir, 'dot.png'));
      await page.getByText('With an image, the message is its link.').waitFor();
      await shot('send-image');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const saved = await page
        .getByTestId('sent')
        .getByText(/Saved message/)
        .textContent();
      const id = Number(/#(\d+)/.exec(saved ?? '')?.[1]);
      expect(id).toBeGreaterThan(0);
      await waitFor('the phone got the image message', async () => bodiesAtPhone.has(id));
      const link = bodiesAtPhone.get(id) ?? '';
      expect(link).toMatch(/\/files\/[0-9a-f-]{36}\.png$/);
      const picture = await fetch(link);
      expect(picture.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await picture.arrayBuffer())).toEqual(PNG);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the three bad rows of a 1,000-row CSV; the fixed file is sent once, however often clicked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smsfleet-bulk-'));
    const rows = Array.from({ length: 1_000 }, (_, i) => [
      `+49157${String(10_000_000 + i)}`,
      `bulk ${i}`,
      String(offlinePhone),
    ]);
    const bad = rows.map((row) => [...row]);
    bad[99][0] = 'call me';
    bad[499][1] = '';
    bad[899][2] = '999999';
    writeFileSync(join(dir, 'bad.csv'), csv([['phone', 'message', 'device'], ...bad]));
    writeFileSync(join(dir, 'good.csv'), csv([['phone', 'message', 'device'], ...rows]));
    try {
      await nav('Send');
      await page.getByRole('link', { name: /Send many/ }).click();
      await page.getByLabel('File').setInputFiles(join(dir, 'bad.csv'));
      const errors = page.getByTestId('row-errors');
      await errors.getByText('3 problems').waitFor();
      const text = await errors.textContent();
      expect(text).toContain('Line 101 (Number): "call me" is not a phone number');
      expect(text).toContain('Line 501 (Text): no text');
      expect(text).toContain('Line 901 (Device id): "999999" is not one of your devices');
      await expect(page.getByRole('button', { name: /^Send 0 messages/ }).isDisabled()).resolves.toBe(true);
      await shot('bulk-errors');
      await page.getByLabel('File').setInputFiles(join(dir, 'good.csv'));
      const send = page.getByRole('button', { name: 'Send 1,000 messages' });
      await send.dblclick();
      await page.getByTestId('bulk-sent').getByText('Saved 1,000 messages').waitFor();
      await shot('bulk-sent');
      const [{ count }] = await system.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM messages WHERE device_id = $1`,
        [offlinePhone],
      );
      expect(count).toBe(1_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends an XLSX file as it sends a CSV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smsfleet-xlsx-'));
    const rows = Array.from({ length: 20 }, (_, i) => [`+49157${20_000_000 + i}`, `sheet ${i}`, livePhone]);
    writeFileSync(join(dir, 'sheet.xlsx'), xlsxFile([['Phone', 'Message', 'Device'], ...rows]));
    try {
      await nav('Send');
      await page.getByRole('link', { name: /Send many/ }).click();
      await page.getByLabel('File').setInputFiles(join(dir, 'sheet.xlsx'));
      await page.getByRole('button', { name: 'Send 20 messages' }).click();
      await page.getByTestId('bulk-sent').getByText('Saved 20 messages').waitFor();
      const stored = await system.query<{ body: string; phone: string }>(
        `SELECT body, phone FROM messages WHERE device_id = $1 AND body LIKE 'sheet %' ORDER BY body`,
        [livePhone],
      );
      expect(stored).toHaveLength(20);
      expect(stored).toContainEqual({ body: 'sheet 7', phone: '+4915720000007' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('changes a phone’s pace: stored, and the connected phone is told at once', async () => {
    await nav('Devices');
    const row = page.getByTestId(`device-${livePhone}`);
    await row.getByTestId('online-state').getByText('Online').waitFor();
    await row.getByLabel('Seconds between SMS').fill('3');
    await row.getByLabel('Window', { exact: true }).fill('4');
    await row.getByRole('button', { name: 'Apply' }).click();
    await row.getByText('Applied').waitFor();
    await waitFor('the phone got its new settings', async () =>
      settingsSeen.some((s) => s.delaybetweeneachsms === 3 && s.window === 4),
    );
    const [stored] = await system.query<{ delay_between_sms: number; send_window: number }>(
      `SELECT delay_between_sms, send_window FROM devices WHERE id = $1`,
      [livePhone],
    );
    expect(stored).toEqual({ delay_between_sms: 3, send_window: 4 });
    await page.getByTestId(`device-${offlinePhone}`).getByTestId('waiting').getByText('1000').waitFor();
    await shot('devices');
    await page.getByRole('link', { name: 'Add a phone' }).click();
    await page.getByTestId('phone-token').waitFor();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await shot('add-phone');
  });

  it('filters and pages messages', async () => {
    await nav('Messages');
    await page.getByLabel('Device').selectOption(String(offlinePhone));
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/device_id=/);
    const ids = async () =>
      (
        await page
          .locator('tbody tr')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-testid')))
      ).map((id) => Number(id?.replace('message-', '')));
    await page.getByText('Page 1', { exact: true }).waitFor();
    await page.getByText('bulk 999', { exact: true }).waitFor();
    const first = await ids();
    expect(first).toHaveLength(50);
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.getByText('bulk 949', { exact: true }).waitFor();
    const second = await ids();
    expect(second).toHaveLength(50);
    expect(Math.max(...second)).toBeLessThan(Math.min(...first));
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText('bulk 999', { exact: true }).waitFor();
    expect(await ids()).toEqual(first);
    await page.getByLabel('Phone', { exact: true }).fill('+4915710000500');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.getByText('bulk 500', { exact: true }).waitFor();
    expect(await ids()).toHaveLength(1);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('messages-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('another account’s ids in the address show "not found"', async () => {
    await go(`/messages/${bMessage}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.getByText(`Message ${bMessage} not found among yours.`).waitFor();
    expect(await page.content()).not.toContain('bravo secret');
    await shot('not-found');
    await go('/messages/999999999');
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
  });

  it('shows the account and the contacts pages', async () => {
    await nav('Account');
    await page.getByText(`Signed in as ${a.email}.`).waitFor();
    await page.getByRole('button', { name: 'Show the token' }).click();
    await page.getByTestId('api-token').getByText(a.token).waitFor();
    await shot('account');
    await nav('Contacts');
    await page.getByLabel('New tag').fill('VIP');
    await page.getByRole('button', { name: 'Create tag' }).click();
    await page.getByRole('listitem').getByText('VIP').waitFor();
    // 1,500 rows after a header: two requests of the import route.
    const dir = mkdtempSync(join(tmpdir(), 'smsfleet-contacts-'));
    try {
      const people = Array.from({ length: 1_500 }, (_, i) => [`+49157${30_000_000 + i}`, `Person ${i}`]);
      writeFileSync(join(dir, 'contacts.csv'), csv([['phone', 'name'], ...people]));
      await page.getByLabel('Tag for the imported contacts').selectOption({ label: 'VIP' });
      await page.getByLabel(/^CSV file/).setInputFiles(join(dir, 'contacts.csv'));
      await page.getByTestId('import-progress').getByText('1500 of 1500 saved (1500 new)').waitFor();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await shot('contacts');
  });

  it('manages a webhook: secret shown once, a test event reaches the receiver and is listed, pause, delete', async () => {
    await nav('Webhooks');
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    // The other account's subscription is not listed.
    await page.getByText('No webhooks yet.').waitFor();
    await page.getByLabel('URL that receives the events').fill(receiver.url(HOOK_PATH));
    await page.getByLabel(/^Description/).fill('crm');
    await page.getByRole('checkbox', { name: /^message\.failed/ }).check();
    await page.getByRole('checkbox', { name: /^Shop phone/ }).check();
    await page.getByRole('button', { name: 'Create the webhook' }).click();
    const secret = (await page.getByTestId('webhook-secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    const row = page.locator('tbody tr', { hasText: receiver.url(HOOK_PATH) });
    await row.getByTestId('state').getByText('Active').waitFor();
    const id = Number((await row.getAttribute('data-testid'))?.replace('webhook-', ''));
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await page.content()).not.toContain('/bravo-hook');
    expect(await row.textContent()).toContain(`#${livePhone}`);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: system.apiUrl });
    await page.getByRole('button', { name: 'Copy the secret' }).click();
    await page.getByRole('status').getByText('Copied').waitFor();
    // Runs in the page; this file compiles without the DOM's types, so the clipboard is typed by hand.
    const copied = await page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    );
    expect(copied).toBe(secret);
    await shot('webhooks-secret');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await go('/webhooks');
    await row.waitFor();
    // Shown once: nothing on the page (or in the API's answers) carries it any more.
    expect(await page.content()).not.toContain(secret);

    await row.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByRole('heading', { name: `Webhook #${id}` }).waitFor();
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await waitFor('the receiver got the test event', async () => receiver.at(HOOK_PATH).length > 0);
    const [got] = receiver.at(HOOK_PATH);
    expect(JSON.parse(got.body)).toMatchObject({ type: 'webhook.test' });
    // Signed with the secret the page showed.
    expect(independentlyVerified(String(got.headers['smsfleet-signature']), got.body, secret)).toBe(true);
    const delivery = page.locator('tbody tr', { hasText: 'webhook.test' });
    await delivery.getByTestId('delivery-status').getByText('Delivered').waitFor();
    await delivery
      .getByTestId('last-answer')
      .getByText(/^HTTP 200 in \d+ ms/)
      .waitFor();
    await shot('webhook-deliveries');
    // Sent again on request, with the same event id.
    await delivery.getByRole('button', { name: 'Redeliver' }).click();
    await waitFor('the receiver got it again', async () => receiver.at(HOOK_PATH).length > 1);
    expect(receiver.at(HOOK_PATH)[1].headers['smsfleet-event-id']).toBe(got.headers['smsfleet-event-id']);

    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByTestId('state').getByText('Paused').waitFor();
    const [stored] = await system.query<{ paused: boolean }>(`SELECT paused FROM webhooks WHERE id = $1`, [
      id,
    ]);
    expect(stored.paused).toBe(true);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No webhooks yet.').waitFor();
    expect(await system.query(`SELECT id FROM webhooks WHERE id = $1`, [id])).toHaveLength(0);

    // Another account's subscription in the address: not found, nothing of it shown.
    await go(`/webhooks/${bWebhook}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.getByText(`Webhook ${bWebhook} not found among yours.`).waitFor();
    expect(await page.content()).not.toContain('/bravo-hook');
  });

  it('signs out: the session ends on the server', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'smsfleet_session');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to smsfleet' }).waitFor();
    await go('/messages');
    await page.getByRole('heading', { name: 'Sign in to smsfleet' }).waitFor();
    // The old cookie, replayed by hand, opens nothing.
    const replay = await fetch(`${system.apiUrl}/v1/session`, {
      headers: { cookie: `smsfleet_session=${cookie?.value}` },
    });
    expect(replay.status).toBe(401);
  });
});
