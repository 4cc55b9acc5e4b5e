import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { numberOption, parseArgs, requireOption, UsageError } from './cli-args';
import { SimulatedFleet } from './simulator/fleet';
import { PhoneCredentials } from './simulator/simulated-phone';
import { AppRegistration } from './simulator/smsgate/smsgate-app';
import { SmsGateFleet } from './simulator/smsgate/smsgate-fleet';

const USAGE = `usage: npm run devices -- --count N --email E --password P [options]
  --api URL             API base URL (default http://127.0.0.1:3000)
  --dispatcher URL      dispatcher URL (default http://127.0.0.1:3001)
  --apps N              also N phones running the SMSGate app (its double), over /mobile/v1 (default 0)
  --phone-token T       the account's phone registration token, for --apps (npm run cli -- phone:token --email E)
  --send-delay-ms MS    time a phone takes to send (default 200)
  --delivery-delay-ms MS time until the delivery report (default 300)
  --failure-share X     share of messages that fail, 0–1 (default 0)
  --state FILE          where phone credentials are kept for reuse (default .smsfleet/devices-<email>.json)`;

function readState<T>(path: string): T[] {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T[]) : [];
}

function writeState(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2), { mode: 0o600 });
}

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2));
  const email = requireOption(options, 'email');
  const password = requireOption(options, 'password');
  const count = numberOption(options, 'count', 5, 0, 20_000);
  const appCount = numberOption(options, 'apps', 0, 0, 20_000);
  const phoneToken = appCount > 0 ? requireOption(options, 'phone-token') : undefined;
  const statePath = resolve(
    options.get('state') ?? `.smsfleet/devices-${email.replace(/[^a-z0-9@._-]/gi, '_')}.json`,
  );
  const appStatePath = statePath.replace(/\.json$/, '') + '-apps.json';
  const dispatcherUrl = options.get('dispatcher') ?? process.env.DISPATCHER_URL ?? 'http://127.0.0.1:3001';
  const behaviour = {
    sendDelayMs: numberOption(options, 'send-delay-ms', 200, 0, 600_000),
    deliveryDelayMs: numberOption(options, 'delivery-delay-ms', 300, 0, 600_000),
    failureShare: numberOption(options, 'failure-share', 0, 0, 1),
  };
  const fleet = new SimulatedFleet({
    apiUrl: options.get('api') ?? process.env.API_URL ?? 'http://127.0.0.1:3000',
    dispatcherUrl,
    email,
    password,
    behaviour,
  });
  const known = readState<PhoneCredentials>(statePath);
  await fleet.provision(count, known);
  // Phones kept from another database are unknown here: registered again rather than given up.
  const replaced = await fleet.connectOrRegisterAgain();
  for (const { refused, registered } of replaced)
    console.log(
      `phone ${refused} is unknown to this server (a new database?): registered it again as phone ${registered}`,
    );
  writeState(statePath, fleet.credentials);
  console.log(
    `phones: ${fleet.credentials.map((c) => c.deviceId).join(', ') || 'none'} (credentials in ${statePath})`,
  );

  const apps = new SmsGateFleet({
    serverUrl: `${dispatcherUrl.replace(/\/$/, '')}/mobile/v1`,
    privateToken: phoneToken ?? '',
    behaviour,
  });
  if (appCount > 0) {
    const registrations = await apps.start(appCount, readState<AppRegistration>(appStatePath));
    if (apps.reregistered > 0)
      console.log(
        `${apps.reregistered} SMSGate phone(s) unknown to this server (a new database?): registered again`,
      );
    writeState(appStatePath, registrations);
    console.log(
      `SMSGate app phones: ${registrations.map((r) => r.id).join(', ')} (registrations in ${appStatePath})`,
    );
  }

  const progress = setInterval(() => {
    const received = fleet.ledger.received.length + apps.ledger.received.length;
    const repeats = fleet.ledger.repeats + apps.ledger.repeats;
    const sent = fleet.ledger.sends.size + apps.ledger.sends.size;
    const reported = fleet.ledger.reported + apps.ledger.reported;
    process.stdout.write(
      `\rconnected ${fleet.connectedCount}/${count}${appCount > 0 ? `  app streams ${apps.streamsOpen}/${appCount}` : ''}  received ${received} (repeats ${repeats})  sent ${sent}  reported ${reported}   `,
    );
  }, 1_000);
  const stop = () => {
    clearInterval(progress);
    fleet.stop();
    apps.stop();
    process.stdout.write('\n');
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(
    error instanceof UsageError ? `${error.message}\n${USAGE}` : `devices: ${(error as Error).message}`,
  );
  process.exit(1);
});
