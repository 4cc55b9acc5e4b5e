import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppConfig, loadConfig, runMain } from '@smsfleet/config';
import { statusTitle } from '@smsfleet/contracts';
import { configuredDatabase, runMigrations } from '@smsfleet/persistence';
import { accountToken, SimulatedFleet } from './simulator/fleet';
import { callGetdata } from './simulator/getdata-call';
import { PhoneCredentials } from './simulator/simulated-phone';
import { AppRegistration } from './simulator/smsgate/smsgate-app';
import { SmsGateFleet } from './simulator/smsgate/smsgate-fleet';
import { APP_NAMES, AppSupervisor } from './supervisor/app-supervisor';

const ROOT = join(__dirname, '..', '..');
const STATE_DIR = resolve(process.env.SMSFLEET_STATE_DIR ?? join(ROOT, '.smsfleet'));
const DEMO_EMAIL = process.env.DEMO_EMAIL ?? 'demo@smsfleet.local';
const DEMO_PASSWORD = process.env.DEMO_PASSWORD ?? 'demo-password';
const PHONES = 3;
const once = process.argv.includes('--once');

function step(text: string): void {
  console.log(`\n▸ ${text}`);
}

function cli(...args: string[]) {
  return spawnSync(
    process.execPath,
    ['-r', join(ROOT, 'scripts/register-aliases.js'), join(ROOT, 'dist/tools/cli.js'), ...args],
    { env: process.env, encoding: 'utf8' },
  );
}

/** Creates the demo account through the real CLI; an existing account is fine. */
function ensureDemoAccount(): void {
  const result = cli('user:create', '--email', DEMO_EMAIL, '--password', DEMO_PASSWORD);
  if (result.status === 3) console.log(`  account ${DEMO_EMAIL} exists`);
  else if (result.status === 0) console.log(`  created account ${DEMO_EMAIL} (password: ${DEMO_PASSWORD})`);
  else throw new Error(`could not create the demo account: ${result.stderr.trim()}`);
}

/** The demo account's phone registration token (the SMSGate app's Private Token), through the real CLI. */
function demoPhoneToken(): string {
  const result = cli('phone:token', '--email', DEMO_EMAIL);
  if (result.status !== 0)
    throw new Error(`could not get the phone registration token: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

async function sendDemoMessages(
  apiUrl: string,
  token: string,
  devices: number[],
  appDevice: number,
): Promise<Map<number, string>> {
  const sent = new Map<number, string>();
  const single = await callGetdata(apiUrl, 'addsms', {
    token,
    sendto: '+4915752982212',
    body: 'Hello from smsfleet',
    device_id: devices[0],
  });
  sent.set(single.sms_id as number, `single message via phone ${devices[0]}`);
  const several = await callGetdata(apiUrl, 'addsms', {
    token,
    sendto: '+4915752982213,+4915752982214,+4915752982215',
    body: 'One request, three recipients',
    device_id: devices[1],
  });
  for (const id of several.sms_ids as number[]) sent.set(id, `multi-recipient via phone ${devices[1]}`);
  const urgent = await callGetdata(apiUrl, 'addsms', {
    token,
    sendto: '+4915752982216',
    body: 'Your code is 482913',
    device_id: devices[2],
    urgent: 1,
  });
  sent.set(urgent.sms_id as number, `urgent OTP via phone ${devices[2]}`);
  const inFive = new Date(Date.now() + 5_000).toISOString().slice(0, 19).replace('T', ' ');
  const scheduled = await callGetdata(apiUrl, 'addsms', {
    token,
    sendto: '+4915752982217',
    body: 'Scheduled five seconds ahead',
    device_id: devices[0],
    timetosend: inFive,
  });
  sent.set(scheduled.sms_id as number, `scheduled for ${inFive} UTC`);
  const viaApp = await callGetdata(apiUrl, 'addsms', {
    token,
    sendto: '+4915752982218',
    body: 'Hello from a phone running the SMSGate app',
    device_id: appDevice,
  });
  sent.set(viaApp.sms_id as number, `via the SMSGate app phone ${appDevice} (/mobile/v1, SSE)`);
  return sent;
}

async function followUntilDelivered(apiUrl: string, token: string, sent: Map<number, string>): Promise<void> {
  const last = new Map<number, number>();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    for (const [id, label] of sent) {
      const answer = await callGetdata(apiUrl, 'getsmsstatus', { token, sms_id: id });
      const status = answer.status as number;
      if (last.get(id) !== status) {
        last.set(id, status);
        console.log(`  sms ${id} → ${status} ${statusTitle(status)}   (${label})`);
      }
    }
    if ([...last.values()].every((status) => status === 7) && last.size === sent.size) return;
    await new Promise((done) => setTimeout(done, 300));
  }
  throw new Error('the demo messages did not all reach status 7 within a minute; see the logs');
}

function printSummary(
  config: AppConfig,
  token: string,
  devices: number[],
  app: { device: number; phoneToken: string },
  logDir: string,
): void {
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  const dispatcherUrl = `http://${config.dispatcher.host}:${config.dispatcher.port}`;
  console.log(`
smsfleet is running.
  dashboard       ${apiUrl}/   (sign in with the account below)
  API             ${apiUrl}/getdata/…   (SmsGateway24-compatible)
  dispatcher      ${dispatcherUrl}/devices   (socket.io, for phones)
                  ${dispatcherUrl}/mobile/v1   (the SMSGate app's API)
  health          ${apiUrl}/health/ready
  account         ${DEMO_EMAIL} / ${DEMO_PASSWORD}
  token           ${token}
  phones          ${devices.join(', ')} (simulated, connected)
  SMSGate phone   ${app.device} (the app's double, event stream open)
  logs            ${logDir}/<app>.log (JSON)

A real phone with the SMSGate app (docs/phones.md), Settings → Cloud Server:
  API URL               https://<this host>/mobile/v1   (HTTPS through Caddy: docker compose, or deploy/caddy/Caddyfile)
  Private Token         ${app.phoneToken}
  Notification channel  SSE only

Try it:
  curl "${apiUrl}/getdata/addsms?token=${token}&sendto=%2B4915752982299&body=hi&device_id=${devices[0]}"
  curl "${apiUrl}/getdata/getsmsstatus?token=${token}&sms_id=<id>"

Ctrl-C stops everything.`);
}

runMain('demo', async () => {
  const config = loadConfig();
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  const logDir = join(STATE_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });

  step(`database ${new URL(config.databaseUrl).pathname.slice(1)}: applying migrations`);
  const ran = await runMigrations(configuredDatabase(config));
  console.log(ran.length ? `  applied ${ran.join(', ')}` : '  up to date');
  ensureDemoAccount();

  step('starting api, scheduler, dispatcher and status as separate processes');
  const supervisor = new AppSupervisor(process.env, logDir);
  const ports = {
    api: config.api.port,
    scheduler: config.scheduler.port,
    dispatcher: config.dispatcher.port,
    status: config.status.port,
  };
  for (const name of APP_NAMES) supervisor.start(name, ports[name]);
  let fleet: SimulatedFleet | undefined;
  /** Set once the app double runs (the stop handler is bound before). */
  const started: { apps?: SmsGateFleet } = {};
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    fleet?.stop();
    started.apps?.stop();
    await supervisor.stopAll();
    console.log('stopped.');
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  try {
    await supervisor.waitUntilLive();
  } catch (error) {
    await supervisor.stopAll();
    throw new Error(
      `${(error as Error).message}. Is another smsfleet already using ports ${Object.values(ports).join(', ')}?`,
    );
  }
  supervisor.onUnexpectedExit((app, code) => {
    if (stopping) return;
    console.error(`\n${app.name} exited unexpectedly (code ${code}); see ${logDir}/${app.name}.log`);
    void stop(1);
  });
  console.log(`  all four are live (logs in ${logDir})`);

  step(`connecting ${PHONES} simulated phones`);
  const statePath = join(STATE_DIR, 'demo-devices.json');
  const known: PhoneCredentials[] = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : [];
  const fleetOptions = {
    apiUrl,
    dispatcherUrl: `http://${config.dispatcher.host}:${config.dispatcher.port}`,
    email: DEMO_EMAIL,
    password: DEMO_PASSWORD,
    behaviour: { sendDelayMs: 400, deliveryDelayMs: 600, failureShare: 0 },
  };
  fleet = new SimulatedFleet(fleetOptions);
  let credentials = await fleet.provision(PHONES, known);
  try {
    await fleet.connectAll();
  } catch {
    // Phones remembered from another database: register fresh ones.
    fleet.stop();
    fleet = new SimulatedFleet(fleetOptions);
    credentials = await fleet.provision(PHONES);
    await fleet.connectAll();
  }
  writeFileSync(statePath, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  const devices = credentials.map((c) => c.deviceId);
  console.log(`  phones ${devices.join(', ')} connected`);

  step('connecting a phone running the SMSGate app (its double) to /mobile/v1');
  const phoneToken = demoPhoneToken();
  const appStatePath = join(STATE_DIR, 'demo-apps.json');
  const knownApps: AppRegistration[] = existsSync(appStatePath)
    ? JSON.parse(readFileSync(appStatePath, 'utf8'))
    : [];
  const apps = new SmsGateFleet({
    serverUrl: `${fleetOptions.dispatcherUrl}/mobile/v1`,
    privateToken: phoneToken,
    behaviour: fleetOptions.behaviour,
  });
  started.apps = apps;
  // One remembered from another database is refused (401) and registers again, as the app does.
  const [registration] = await apps.start(1, knownApps);
  writeFileSync(appStatePath, JSON.stringify([registration], null, 2), { mode: 0o600 });
  const appDevice = Number(registration.id);
  console.log(
    `  SMSGate phone ${appDevice} registered${apps.reregistered > 0 ? ' again (the one remembered was unknown here)' : ''}`,
  );

  step('sending messages through the public API and following them to status 7 (Delivered)');
  const token = await accountToken(apiUrl, DEMO_EMAIL, DEMO_PASSWORD);
  const sent = await sendDemoMessages(apiUrl, token, devices, appDevice);
  await followUntilDelivered(apiUrl, token, sent);
  console.log(`  all ${sent.size} messages delivered`);

  printSummary(config, token, devices, { device: appDevice, phoneToken }, logDir);
  if (once) await stop(0);
});
