import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { numberOption, parseArgs, requireOption, UsageError } from './cli-args';
import { SimulatedFleet } from './simulator/fleet';
import { PhoneCredentials } from './simulator/simulated-phone';

const USAGE = `usage: npm run devices -- --count N --email E --password P [options]
  --api URL             API base URL (default http://127.0.0.1:3000)
  --dispatcher URL      dispatcher URL (default http://127.0.0.1:3001)
  --send-delay-ms MS    time a phone takes to send (default 200)
  --delivery-delay-ms MS time until the delivery report (default 300)
  --failure-share X     share of messages that fail, 0–1 (default 0)
  --state FILE          where phone credentials are kept for reuse (default .smsfleet/devices-<email>.json)`;

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2));
  const email = requireOption(options, 'email');
  const password = requireOption(options, 'password');
  const count = numberOption(options, 'count', 5, 1, 20_000);
  const statePath = resolve(
    options.get('state') ?? `.smsfleet/devices-${email.replace(/[^a-z0-9@._-]/gi, '_')}.json`,
  );
  const known: PhoneCredentials[] = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : [];
  const fleet = new SimulatedFleet({
    apiUrl: options.get('api') ?? process.env.API_URL ?? 'http://127.0.0.1:3000',
    dispatcherUrl: options.get('dispatcher') ?? process.env.DISPATCHER_URL ?? 'http://127.0.0.1:3001',
    email,
    password,
    behaviour: {
      sendDelayMs: numberOption(options, 'send-delay-ms', 200, 0, 600_000),
      deliveryDelayMs: numberOption(options, 'delivery-delay-ms', 300, 0, 600_000),
      failureShare: numberOption(options, 'failure-share', 0, 0, 1),
    },
  });
  const credentials = await fleet.provision(count, known);
  mkdirSync(dirname(statePath), { recursive: true });
  writeFileSync(statePath, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  console.log(`phones: ${credentials.map((c) => c.deviceId).join(', ')} (credentials in ${statePath})`);
  await fleet.connectAll();
  const progress = setInterval(() => {
    const { ledger } = fleet;
    process.stdout.write(
      `\rconnected ${fleet.connectedCount}/${count}  received ${ledger.received.length} (repeats ${ledger.repeats})  sent ${ledger.sends.size}  reported ${ledger.reported}   `,
    );
  }, 1_000);
  const stop = () => {
    clearInterval(progress);
    fleet.stop();
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
