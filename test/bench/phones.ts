import { SimulatedFleet } from '../../tools/simulator/fleet';
import { PhoneBehaviour, PhoneCredentials, SimulatedPhone } from '../../tools/simulator/simulated-phone';
import { BenchAccount, BenchSystem } from '../harness/bench-system';

/** A fleet for known credentials, connected a batch at a time (a thousand handshakes at once only measure the handshake). */
export async function connectFleet(
  system: BenchSystem,
  account: BenchAccount,
  credentials: PhoneCredentials[],
  behaviour: PhoneBehaviour,
  onProgress?: (connected: number) => void,
): Promise<SimulatedFleet> {
  const fleet = new SimulatedFleet({
    apiUrl: system.apiUrl,
    dispatcherUrl: system.dispatcherUrl,
    email: account.email,
    password: account.password,
    behaviour,
  });
  await fleet.provision(credentials.length, credentials);
  for (let i = 0; i < fleet.phones.length; i += 100) {
    await Promise.all(fleet.phones.slice(i, i + 100).map((phone: SimulatedPhone) => phone.connect()));
    onProgress?.(Math.min(i + 100, fleet.phones.length));
  }
  return fleet;
}

/** Fills each phone's queue through the public API (one multi-recipient addsms per phone and chunk). */
export async function fillQueues(
  system: BenchSystem,
  account: BenchAccount,
  deviceIds: number[],
  perDevice: number,
  extra: Record<string, string | number> = {},
  onProgress?: (accepted: number) => void,
): Promise<number[]> {
  const ids: number[] = [];
  const jobs: Array<{ deviceId: number; count: number; offset: number }> = [];
  for (const deviceId of deviceIds) {
    for (let offset = 0; offset < perDevice; offset += 1_000)
      jobs.push({ deviceId, count: Math.min(1_000, perDevice - offset), offset });
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const numbers = Array.from(
        { length: job.count },
        (_, n) =>
          `+49157${String(job.deviceId % 1000).padStart(3, '0')}${String(job.offset + n).padStart(5, '0')}`,
      );
      const response = await fetch(`${system.apiUrl}/getdata/addsms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token: account.token,
          sendto: numbers.join(','),
          body: 'benchmark',
          device_id: job.deviceId,
          ...extra,
        }),
      });
      const answer = (await response.json()) as {
        error: number;
        message: string;
        sms_id: number;
        sms_ids?: number[];
      };
      if (answer.error !== 0) throw new Error(`addsms refused: ${answer.message}`);
      ids.push(...(answer.sms_ids ?? [answer.sms_id]));
      onProgress?.(ids.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, jobs.length) }, worker));
  return ids;
}

export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
