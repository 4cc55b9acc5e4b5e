import { PhoneLedger } from '../../tools/simulator/phone-ledger';
import { AppBehaviour, AppOptions, SmsGateApp } from '../../tools/simulator/smsgate/smsgate-app';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** The account's phone registration token, through the CLI as an operator gets it. */
export function phoneToken(system: TestSystem, account: Account, rotate = false): string {
  return system.cli('phone:token', '--email', account.email, ...(rotate ? ['--rotate'] : [])).trim();
}

export const QUICK_APP: AppBehaviour = { sendDelayMs: 20, deliveryDelayMs: 20, failureShare: 0 };

/** App doubles of one account, started (registered, stream open) against the dispatcher `instance`. */
export async function startApps(
  system: TestSystem,
  account: Account,
  count: number,
  options: Partial<AppOptions> & { instance?: string } = {},
): Promise<{ apps: SmsGateApp[]; ledger: PhoneLedger }> {
  const ledger = options.ledger ?? new PhoneLedger();
  const token = phoneToken(system, account);
  const apps = Array.from(
    { length: count },
    (_, n) =>
      new SmsGateApp({
        serverUrl: `${system.url(options.instance ?? 'dispatcher')}/mobile/v1`,
        privateToken: token,
        behaviour: QUICK_APP,
        retryBackoffMs: 200,
        name: `Test/phone${n + 1}`,
        ...options,
        ledger,
      }),
  );
  await Promise.all(apps.map((app) => app.start()));
  if (options.sse !== false)
    await waitFor('every app stream open', () => apps.every((app) => app.streamOpen), 10_000);
  return { apps, ledger };
}
