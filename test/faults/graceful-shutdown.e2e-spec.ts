import { ChildProcess } from 'node:child_process';
import { reportFigure } from '../helpers/figures';
import { LoadRun } from '../helpers/load-run';
import { AppName } from '../harness/test-system';

/** Kubernetes' default grace period: an app must be gone well before it would be killed. */
const GRACE_MS = 30_000;

/** SIGTERM, then the time until the process exited and how (it re-raises the signal when done). */
async function terminate(child: ChildProcess): Promise<{ ms: number; signal: NodeJS.Signals | null }> {
  const started = Date.now();
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_, signal) => resolve(signal)),
  );
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const signal = await Promise.race([
    exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running ${GRACE_MS} ms after SIGTERM`)), GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  return { ms: Date.now() - started, signal };
}

describe('SIGTERM on each app during a run loses nothing (F12, docs/reliability.md)', () => {
  let run: LoadRun;

  beforeAll(async () => {
    run = await LoadRun.start({
      env: { READINESS_DRAIN_MS: '300', LOG_LEVEL: 'warn' },
      tenants: 1,
      phonesPerTenant: 3,
      behaviour: { sendDelayMs: 20, deliveryDelayMs: 20, failureShare: 0 },
    });
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('every accepted message is delivered once, and every app exits by itself within the grace period', async () => {
    // A steady stream of 10-recipient requests while the apps restart one by one; the careful client
    // retries (same key) what met the API restarting.
    const traffic = run.drive(
      run.mix({ keyPrefix: 'f12', bulks: 0, bulkSize: 0, multis: 300, multiSize: 10, singles: 0 }),
      1,
      50,
    );
    const system = run.system;
    const exits: Array<{ app: AppName; ms: number; signal: NodeJS.Signals | null }> = [];
    for (const app of ['status', 'dispatcher', 'scheduler', 'api'] as AppName[]) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const child = system.processes.get(app);
      if (!child) throw new Error(`${app} not running`);
      system.processes.delete(app);
      exits.push({ app, ...(await terminate(child)) });
      await system.startApp(app);
    }
    const answered = await traffic;

    for (const exit of exits) {
      expect(exit).toMatchObject({ signal: 'SIGTERM' });
      expect(exit.ms).toBeLessThan(GRACE_MS);
    }
    const invariants = await run.verify(answered, 60_000);
    // No phone failures in this run: every message was delivered.
    expect(invariants.get('L7')?.counts).toMatchObject({ accepted: 3_000, delivered: 3_000 });
    reportFigure('graceful-shutdown', {
      ...run.figures(invariants),
      exitMs: Object.fromEntries(exits.map((exit) => [exit.app, exit.ms])),
    });
  }, 180_000);
});
