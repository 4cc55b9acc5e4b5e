import { Worker } from 'node:worker_threads';

/** One answer to the victim's client: its request's index, HTTP status, error field, message id, time. */
export interface VictimAnswer {
  i: number;
  status: number;
  error: unknown;
  id?: number;
  ms: number;
}

/** V's client as a worker thread's code (plain JavaScript: workers do not go through Jest's transform). */
const VICTIM_CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { apiUrl, token, devices, ms, from } = workerData;
const answers = [];
async function send(i) {
  const started = performance.now();
  try {
    const response = await fetch(apiUrl + '/getdata/addsms', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, device_id: devices[i % devices.length],
        sendto: '+4915900' + String(i).padStart(6, '0'), body: 'victim ' + i }),
      signal: AbortSignal.timeout(30000),
    });
    const answer = await response.json();
    answers.push({ i, status: response.status, error: answer.error, id: answer.sms_id, ms: performance.now() - started });
  } catch (error) {
    answers.push({ i, status: 0, error: String(error), ms: performance.now() - started });
  }
}
(async () => {
  const sent = [];
  const end = Date.now() + ms;
  for (let i = from; Date.now() < end; i++) {
    sent.push(send(i));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await Promise.all(sent);
  parentPort.postMessage(answers);
})();
`;

/**
 * The victim tenant's client: one addsms every 100 ms for `ms`, in a thread of its own, so that an
 * attacker's work in the test's thread does not count as V's waiting time.
 */
export async function runVictimClient(options: {
  apiUrl: string;
  token: string;
  devices: number[];
  ms: number;
  from: number;
}): Promise<VictimAnswer[]> {
  const worker = new Worker(VICTIM_CLIENT, { eval: true, workerData: options });
  try {
    return await new Promise<VictimAnswer[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}
