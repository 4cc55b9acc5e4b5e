import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { processFigures } from '../app-metrics';
import { BenchSystem } from '../../harness/bench-system';
import { cpuSecondsOf } from '../machine';
import { runLoad, runPacedLoad } from '../load';
import { Progress } from '../progress';
import { BenchContext, Scenario, ScenarioResult } from '../result';
import { round } from '../stats';
import { freePort } from '../../harness/free-port';

const CONNECTIONS = 50;

/** `addsms` over HTTP against a bare server doing one INSERT and one BullMQ add per request. */
export const intakeSingle: Scenario = {
  name: 'intake-single',
  description: 'addsms over HTTP, 50 connections',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const progress = new Progress('intake-single');
    const system = await BenchSystem.create();
    let baseline: ChildProcess | undefined;
    try {
      await system.startApps(['api']);
      const account = system.createAccount();
      const [device] = await system.registerPhones(account, 1);
      const [{ id: userId }] = (await system.db().query<{ id: number }>('SELECT id FROM users')).rows;

      progress.update('baseline: bare HTTP server, one INSERT + one BullMQ add per request', true);
      const baselinePort = await freePort();
      baseline = spawn(process.execPath, [join(__dirname, '..', 'baselines', 'intake-server.js')], {
        env: {
          ...system.env(),
          PORT: String(baselinePort),
          USER_ID: String(userId),
          DEVICE_ID: String(device.deviceId),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const server = baseline;
      await new Promise<void>((resolve, reject) => {
        server.stdout?.once('data', () => resolve());
        server.once('exit', (code) => reject(new Error(`baseline server exited (${code})`)));
      });
      const message = JSON.stringify({
        sendto: '+4915752982212',
        body: 'benchmark message',
        device_id: device.deviceId,
        token: account.token,
      });
      const warm = Math.max(1, Math.round(context.durationSec / 5));
      await runLoad({
        url: `http://127.0.0.1:${baselinePort}/`,
        connections: CONNECTIONS,
        durationSec: warm,
        body: message,
      });
      const baseCpu = cpuSecondsOf(server.pid);
      const base = await runLoad({
        url: `http://127.0.0.1:${baselinePort}/`,
        connections: CONNECTIONS,
        durationSec: context.durationSec,
        body: message,
        onTick: (n) => progress.update(`baseline: ${n} requests`),
      });
      const baseCpuMs = ((cpuSecondsOf(server.pid) - baseCpu) * 1000) / base.completed;

      progress.update('system: POST /getdata/addsms', true);
      const url = `${system.apiUrl}/getdata/addsms`;
      await runLoad({ url, connections: CONNECTIONS, durationSec: warm, body: message });
      const apiCpu = cpuSecondsOf(system.pidOf('api'));
      const full = await runLoad({
        url,
        connections: CONNECTIONS,
        durationSec: context.durationSec,
        body: message,
        onTick: (n) => progress.update(`system: ${n} requests`),
      });

      const apiCpuMs = ((cpuSecondsOf(system.pidOf('api')) - apiCpu) * 1000) / full.completed;
      progress.update(
        `system at half that load (${Math.round(full.requestsPerSecond / 2)} req/s): latency`,
        true,
      );
      // Where the tail comes from: how long the API's own event loop stalled (prom-client resets the delay
      // histogram at each scrape, so the scrape before starts the window) and what GC cost meanwhile.
      const before = await processFigures(system.apiUrl);
      const half = await runPacedLoad({
        url,
        connections: CONNECTIONS,
        durationSec: context.durationSec,
        body: message,
        rate: Math.max(1, Math.round(full.requestsPerSecond / 2)),
      });
      const after = await processFigures(system.apiUrl);
      // The same paced load against the bare server (idle meanwhile): what this machine's scheduling alone
      // costs the tail, with every process sharing its 2 cores.
      progress.update(
        `baseline at the same load (${Math.round(full.requestsPerSecond / 2)} req/s): latency`,
        true,
      );
      const baseHalf = await runPacedLoad({
        url: `http://127.0.0.1:${baselinePort}/`,
        connections: CONNECTIONS,
        durationSec: context.durationSec,
        body: message,
        rate: Math.max(1, Math.round(full.requestsPerSecond / 2)),
      });

      const [{ stored }] = (
        await system.db().query<{ stored: number }>('SELECT count(*)::int AS stored FROM messages')
      ).rows;
      const ratio = full.requestsPerSecond / base.requestsPerSecond;
      const judged = context.scale >= 1;
      progress.done(
        `system ${Math.round(full.requestsPerSecond)} req/s vs baseline ${Math.round(base.requestsPerSecond)} req/s`,
      );
      return {
        scenario: this.name,
        description: this.description,
        baseline: { label: 'bare HTTP + INSERT + add', value: round(base.requestsPerSecond), unit: 'req/s' },
        system: { label: 'addsms', value: round(full.requestsPerSecond), unit: 'req/s' },
        ratio: round(ratio, 3),
        target: '≥ 50 % of baseline; p99 < 25 ms at half load',
        met: judged ? ratio >= 0.5 && half.p99 < 25 : null,
        details: {
          'system p50 ms (full load)': full.p50,
          'system p99 ms (full load)': full.p99,
          'p99 ms at half load': half.p99,
          'p50 ms at half load': half.p50,
          'baseline p99 ms': base.p99,
          'baseline p99 / p50 ms at the same half load': `${baseHalf.p99} / ${baseHalf.p50}`,
          // Latency counts from when a request was due: a starved load generator charges its own delay.
          'load generator late to send, p99 ms (system / baseline run)': `${half.clientLatenessP99} / ${baseHalf.clientLatenessP99}`,
          // CPU per request depends far less on the other load of the machine than req/s do.
          'CPU ms per request, API / baseline server': `${round(apiCpuMs, 2)} / ${round(baseCpuMs, 2)}`,
          'API event-loop delay p99 / max ms at half load': `${after.loopP99Ms} / ${after.loopMaxMs}`,
          'API GC ms at half load (of which major)': `${round(after.gcMs - before.gcMs)} (${round(after.majorGcMs - before.majorGcMs)})`,
          'errors (system)': full.errors + half.errors,
          'rows stored': stored,
        },
      };
    } finally {
      baseline?.kill('SIGTERM');
      await system.stop();
    }
  },
};
