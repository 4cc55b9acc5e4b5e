import { Worker } from 'node:worker_threads';
import { processFigures } from '../app-metrics';
import { BenchAccount, BenchSystem } from '../../harness/bench-system';
import { Progress } from '../progress';
import { BenchContext, Scenario, ScenarioResult } from '../result';
import { percentile, round } from '../stats';

const VICTIM_EVERY_MS = 50;
/** Concurrent amplified bulk requests of the attacker. */
const ATTACK_CONNECTIONS = 2;
/** Below this, the victim's p95 under attack is fine whatever its quiet one (a few ms on an idle host). */
const MIN_TARGET_P95_MS = 250;
const SLOWDOWN_FACTOR = 10;

/** One addsms every 50 ms from the victim account for `ms`: the time of each answer. */
async function victimTimes(
  system: BenchSystem,
  account: BenchAccount,
  deviceId: number,
  ms: number,
): Promise<number[]> {
  const times: number[] = [];
  const sent: Array<Promise<void>> = [];
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    sent.push(
      (async () => {
        const started = performance.now();
        const response = await fetch(`${system.apiUrl}/getdata/addsms`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            token: account.token,
            sendto: `+4915900${String(i).padStart(6, '0')}`,
            body: 'victim',
            device_id: deviceId,
          }),
        });
        const answer = (await response.json()) as { error: number; message?: string };
        if (answer.error !== 0) throw new Error(`the victim's addsms failed: ${answer.message}`);
        times.push(performance.now() - started);
      })(),
    );
    await new Promise((resolve) => setTimeout(resolve, VICTIM_EVERY_MS));
  }
  await Promise.all(sent);
  return times;
}

/**
 * The attacker's client: amplified bulk requests, ATTACK_CONNECTIONS at a time, for `ms`, in a thread of
 * its own so that writing its 16 MB bodies does not count as the victim's waiting time (plain JavaScript:
 * workers do not go through the TypeScript build). Resolves to the number of requests refused.
 */
const ATTACKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { apiUrl, token, deviceId, ms, connections } = workerData;
const item = { device_id: deviceId, body: 'x', sendto: Array(1000).fill('100').join(',') };
const body = Buffer.from(JSON.stringify({ token, smsdata: Array(3900).fill(item) }));
const end = Date.now() + ms;
let refused = 0;
async function connection() {
  while (Date.now() < end) {
    const response = await fetch(apiUrl + '/getdata/addalotofsms', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body,
    });
    const answer = await response.json();
    if (answer.error === 0) throw new Error('the amplified bulk request was accepted');
    refused++;
  }
}
Promise.all(Array.from({ length: connections }, connection)).then(
  () => parentPort.postMessage({ refused }),
  (error) => parentPort.postMessage({ error: String(error) }),
);
`;

async function attack(apiUrl: string, token: string, deviceId: number, ms: number): Promise<number> {
  const worker = new Worker(ATTACKER, {
    eval: true,
    workerData: { apiUrl, token, deviceId, ms, connections: ATTACK_CONNECTIONS },
  });
  try {
    const result = await new Promise<{ refused?: number; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (result.error !== undefined) throw new Error(result.error);
    return result.refused as number;
  } finally {
    await worker.terminate();
  }
}

/**
 * One tenant's addsms answer times, quiet and while another tenant sends 16 MB addalotofsms bodies naming
 * 3.9 million recipients (refused at the cap): what an amplified bulk request costs everyone else.
 */
export const intakeUnderAttack: Scenario = {
  name: 'intake-under-attack',
  description: "one tenant's addsms while another sends 16 MB bulk requests over the cap",
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('intake-under-attack');
    const system = await BenchSystem.create();
    try {
      await system.startApps(['api']);
      const victim = system.createAccount();
      const attacker = system.createAccount();
      const [victimPhone] = await system.registerPhones(victim, 1);
      const [attackerPhone] = await system.registerPhones(attacker, 1);
      const phaseMs = Math.max(1, context.durationSec) * 1_000;

      progress.update(`baseline: the victim alone for ${phaseMs / 1000} s`, true);
      await processFigures(system.apiUrl);
      const quiet = await victimTimes(system, victim, victimPhone.deviceId, phaseMs);
      const quietLoop = await processFigures(system.apiUrl);

      progress.update(`system: the victim while ${ATTACK_CONNECTIONS} bulk attacks run`, true);
      const attacking = attack(system.apiUrl, attacker.token, attackerPhone.deviceId, phaseMs);
      const during = await victimTimes(system, victim, victimPhone.deviceId, phaseMs);
      const attacks = await attacking;
      const attackLoop = await processFigures(system.apiUrl);

      const quietP95 = round(percentile(quiet, 95));
      const duringP95 = round(percentile(during, 95));
      const bound = Math.max(SLOWDOWN_FACTOR * quietP95, MIN_TARGET_P95_MS);
      progress.done(`victim p95 ${duringP95} ms under attack vs ${quietP95} ms quiet`);
      return {
        scenario: this.name,
        description: this.description,
        baseline: { label: 'victim addsms p95, quiet', value: quietP95, unit: 'ms' },
        system: { label: 'victim addsms p95, under bulk attack', value: duringP95, unit: 'ms' },
        ratio: round(duringP95 / quietP95, 3),
        target: `≤ max(${SLOWDOWN_FACTOR}× quiet p95, ${MIN_TARGET_P95_MS} ms)`,
        met: context.scale >= 1 ? duringP95 <= bound : null,
        details: {
          'victim p50 ms quiet': round(percentile(quiet, 50)),
          'victim p50 ms under attack': round(percentile(during, 50)),
          'victim max ms under attack': round(Math.max(...during)),
          'api loop p99 ms quiet': quietLoop.loopP99Ms,
          'api loop p99 ms under attack': attackLoop.loopP99Ms,
          'api loop max ms under attack': attackLoop.loopMaxMs,
          'bulk requests refused': attacks,
        },
      };
    } finally {
      await system.stop();
    }
  },
};
