import { SimulatedPhone } from '../../tools/simulator/simulated-phone';
import { reportFigure } from '../helpers/figures';
import { LoadRun } from '../helpers/load-run';

const ACK_TIMEOUT_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * F8 (docs/reliability.md): misbehaving phones mid-dispatch. 20 % of the phones lose their network three
 * times while their queues are full, two always acknowledge later than the ack timeout, two often vanish
 * right after an ack (and come back to send and report). Unacknowledged messages are resent, late acks are
 * harmless, the phones de-duplicate repeats so nothing goes to radio twice, each phone ends with exactly one
 * session, and every invariant holds once settled.
 */
describe('F8: phones that drop, ack late, or ack and vanish', () => {
  let run: LoadRun;

  beforeAll(async () => {
    run = await LoadRun.start({
      // Two unacknowledged sends end a message as 204 (the cap), so late ackers do not hold slots for long;
      // their messages are final (7) from their reports long before that, and the 204 changes nothing.
      env: {
        LOG_LEVEL: 'warn',
        DISPATCH_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
        DISPATCH_MAX_UNACKED_SENDS: '2',
      },
      phonesPerTenant: 10,
    });
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('resends what was not acknowledged, sends nothing twice, and settles whole', async () => {
    const phones: SimulatedPhone[] = run.fleets.flatMap((fleet) => fleet.phones);
    const droppers = phones.filter((_, index) => index % 5 === 0);
    const others = phones.filter((phone) => !droppers.includes(phone));
    const lateAckers = others.slice(0, 2);
    const vanishers = others.slice(2, 4);
    for (const phone of lateAckers)
      phone.behaviour = { ...phone.behaviour, ackDelayMs: ACK_TIMEOUT_MS * 1.5 };
    for (const phone of vanishers) phone.behaviour = { ...phone.behaviour, vanishAfterAckShare: 0.03 };

    const started = Date.now();
    const driving = run.drive(
      run.mix({
        keyPrefix: 'f8',
        bulks: 1,
        bulkSize: 1_000,
        multis: 50,
        multiSize: 10,
        singles: 500,
        urgentEvery: 20,
      }),
      4,
    );
    // 20 % of the phones lose their network three times while their queues are full, 2 s each.
    let drops = 0;
    for (let round = 0; round < 3; round++) {
      await sleep(1_500);
      for (const phone of droppers) phone.dropConnection();
      drops += droppers.length;
      await sleep(2_000);
      for (const phone of droppers) phone.restoreConnection();
    }
    const answered = await driving;
    const drivenMs = Date.now() - started;
    const vanishes = vanishers.reduce((sum, phone) => sum + phone.vanishes, 0);
    const invariants = await run.verify(answered);
    expect(vanishes).toBeGreaterThan(0);

    // Resends happened (that is what this fault is about), and the phones de-duplicated every one of them.
    const received = run.fleets.flatMap((fleet) => fleet.ledger.received);
    const repeatsAt = (group: SimulatedPhone[]) =>
      received.filter((entry) => entry.repeat && group.some((phone) => phone.deviceId === entry.deviceId))
        .length;
    expect(repeatsAt(lateAckers)).toBeGreaterThan(0);
    expect(invariants.get('L4')?.counts).toMatchObject({ sentMoreThanOnce: 0 });

    // One session per phone: the dispatcher holds exactly one connection for each of the 20 phones.
    const metrics = await (await fetch(`${run.system.dispatcherUrl}/metrics`)).text();
    const online = metrics
      .split('\n')
      .filter((line) => line.startsWith('smsfleet_phones_online'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    expect(online).toBe(phones.length);

    reportFigure('fault-f8', {
      ...run.figures(invariants),
      drops,
      vanishes,
      repeatsAtLateAckers: repeatsAt(lateAckers),
      repeatsAtVanishers: repeatsAt(vanishers),
      repeatsAtDroppers: repeatsAt(droppers),
      drivenMs,
      runMs: Date.now() - started,
    });
  }, 300_000);
});
