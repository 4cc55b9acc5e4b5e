import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SoakResult } from '../soak/report';
import { fileDigests } from '../helpers/file-digests';

const ROOT = join(__dirname, '..', '..');

/**
 * `npm run test:soak` at a tiny size (50 msg/s for 15 s over 20 phones, every fault a few seconds apart),
 * so that it cannot rot; the real soak (2,000 msg/s, 5 minutes, 1,000 phones) is not part of the suite.
 */
describe('npm run test:soak (smoke)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'smsfleet-soak-smoke-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a kill -9 of each app, a Redis and a PostgreSQL restart, and every invariant holds', () => {
    const out = join(dir, 'soak.json');
    const docsBefore = fileDigests(join(ROOT, 'docs'));
    const run = spawnSync(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register-aliases.js'),
        join(ROOT, 'dist/test/soak/soak.js'),
        '--rate',
        '50',
        '--duration',
        '15',
        '--phones',
        '20',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 240_000 },
    );
    // On a failure, what the soak printed is the first thing to read.
    if (run.status !== 0) console.log(run.stdout.slice(-6_000), run.stderr.slice(-6_000));
    expect(run.stderr).not.toMatch(/soak failed/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\[soak\] \d+ s .*accepted \d+ .*delivered \d+, backlog \d+/);
    // Without --record a run changes no tracked file: the docs and their results are as they were.
    expect(fileDigests(join(ROOT, 'docs'))).toEqual(docsBefore);

    const result = JSON.parse(readFileSync(out, 'utf8')) as SoakResult;
    expect(result.passed).toBe(true);
    expect(result.invariants.map((i) => i.id).sort()).toEqual([
      'L1',
      'L10',
      'L11',
      'L12',
      'L13',
      'L3',
      'L4',
      'L5',
      'L6',
      'L7',
      'L8',
      'L9',
    ]);
    expect(result.invariants.filter((i) => !i.holds)).toEqual([]);
    const counts = Object.fromEntries(result.invariants.map((i) => [i.id, i.counts]));
    expect(counts.L1).toMatchObject({ idsAnswered: result.load.acceptedMessages, missing: 0 });
    expect(counts.L3).toMatchObject({ accepted: result.load.acceptedMessages, nonFinal: 0 });
    expect(counts.L4).toMatchObject({ sentMoreThanOnce: 0, markedSentNotOnPhone: 0 });
    expect(counts.L5).toMatchObject({ claimsNotSent: 0 });
    expect(counts.L7.tenants).toBe(2);
    // Every report a phone saw acknowledged is in PostgreSQL, through the Redis kill and every app's.
    expect(counts.L9.acknowledged).toBeGreaterThan(0);
    expect(counts.L9).toMatchObject({ missing: 0, deadLettered: 0 });
    expect(result.delivery.reportedButNoReport).toBe(0);

    // Open loop at the asked rate, the whole mix, every request answered (retried with its key after the faults).
    expect(result.load.acceptedMessages).toBe(result.load.offeredMessages);
    expect(result.load).toMatchObject({ refused: 0, abandoned: 0 });
    expect(result.load.retries).toBeGreaterThan(0); // the api was down for a while
    expect(result.phones.flaky).toBe(4);

    // One of each fault, each repaired, and intake and delivery seen coming back after each.
    expect(result.faults.map((f) => f.fault).sort()).toEqual([
      'PostgreSQL restart -m immediate',
      'Redis kill -9 + restart (AOF), automatic rebuild',
      'kill -9 api',
      'kill -9 dispatcher',
      'kill -9 scheduler',
      'kill -9 status',
    ]);
    for (const fault of result.faults) {
      expect(fault).toMatchObject({ repaired: true });
      expect(fault.repairSec).toBeGreaterThan(0);
      expect(fault.intakeRecoverySec).not.toBeNull();
      expect(fault.dispatchRecoverySec).not.toBeNull();
      expect(fault.deliveryRecoverySec).not.toBeNull();
    }
    // The scheduler's own rebuild repaired the Redis fault (no `cli reconcile`).
    expect(result.faults.find((f) => f.fault.startsWith('Redis'))?.note).toMatch(
      /^scheduler( rebuilt: \{"checked":\d+,"since":("[^"]+"|null),"enqueued":\d+|: nothing was waiting to rebuild$)/,
    );
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(Object.keys(result.cpu.coresUsed)).toEqual(
      expect.arrayContaining(['api', 'scheduler', 'dispatcher', 'status', 'redis', 'postgres']),
    );
  }, 240_000);
});
