import { reportFigure } from '../helpers/figures';
import { FAULT_RUN_MIX, LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

/**
 * A mixed fleet: socket phones and SMSGate app phones (the app's double), two tenants, under the load-run
 * harness; the dispatcher is killed (-9) while the apps' event streams are open. The apps reconnect
 * after their 5 s delay and pull; `cli check --settled` passes with both ledgers: nothing lost, nothing
 * sent twice.
 */
describe('a mixed fleet of socket and SMSGate phones survives a dispatcher kill -9', () => {
  let run: LoadRun;

  beforeAll(async () => {
    run = await LoadRun.start({ tenants: 2, phonesPerTenant: 4, appsPerTenant: 4 });
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('settles with every invariant holding, both ledgers included', async () => {
    const requests = run.mix({
      keyPrefix: 'mixed',
      ...FAULT_RUN_MIX,
      scheduledEvery: 10,
      scheduledAheadMs: [5_000, 15_000],
    });
    const traffic = run.drive(requests, 4, 5);
    await waitFor(
      'app phones busy',
      () => run.appFleets.every((fleet) => fleet.ledger.sends.size >= 20),
      60_000,
    );
    const openBefore = run.appFleets.reduce((sum, fleet) => sum + fleet.streamsOpen, 0);
    await run.system.kill('dispatcher');
    await waitFor(
      'streams noticed closed',
      () => run.appFleets.every((fleet) => fleet.streamsOpen === 0),
      10_000,
    );
    await run.system.startApp('dispatcher');
    await waitFor(
      'streams open again',
      () => run.appFleets.every((fleet) => fleet.streamsOpen === 4),
      30_000,
    );
    const answered = await traffic;

    const invariants = await run.verify(answered, 120_000);
    const appLedgers = run.appFleets.map((fleet) => fleet.ledger);
    // The apps sent their share, each message once.
    expect(appLedgers.every((ledger) => ledger.sends.size > 0 && ledger.duplicateSends === 0)).toBe(true);
    expect(openBefore).toBe(8);
    reportFigure('smsgate-fleet', {
      ...run.figures(invariants),
      appSends: appLedgers.reduce((sum, ledger) => sum + ledger.sends.size, 0),
      appRepeats: appLedgers.reduce((sum, ledger) => sum + ledger.repeats, 0),
    });
  }, 300_000);
});
