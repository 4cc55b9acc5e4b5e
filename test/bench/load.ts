import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';
import { percentile, round } from './stats';

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  completed: number;
  errors: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSec: number;
  body: string;
  /** Requests per second for all connections together (open model); absent = as fast as possible. */
  overallRate?: number;
  onTick?: (completed: number) => void;
}

/** HTTP load with autocannon; errors count transport errors, timeouts and non-2xx answers. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let completed = 0;
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: options.body,
        connections: options.connections,
        duration: options.durationSec,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requestsPerSecond: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          completed: result.requests.total,
          errors: result.errors + result.timeouts + result.non2xx,
        });
      },
    );
    instance.on('response', () => {
      completed++;
      if (completed % 500 === 0) options.onTick?.(completed);
    });
  });
}

export interface PacedLoadOptions {
  url: string;
  /** Keep-alive connections to spread the requests over; a request waits for a free one. */
  connections: number;
  durationSec: number;
  body: string;
  /** Requests per second, started evenly on the clock whatever the answers do (open model). */
  rate: number;
}

/**
 * Open-loop HTTP load: requests start evenly at `rate`, not in a burst at the start of each second as
 * autocannon's rate limit sends them (which measures full-load latency for half of every second). Latency
 * counts from when a request was due, so a request that waited for a connection is charged for the wait
 * (no coordinated omission).
 */
export async function runPacedLoad(
  options: PacedLoadOptions,
): Promise<LoadResult & { clientLatenessP99: number }> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  /** How late the client itself sent each request (its own event loop starved of CPU). */
  const lateness: number[] = [];
  let errors = 0;
  const outstanding = new Set<Promise<void>>();
  const send = (dueAt: number) =>
    new Promise<void>((resolve) => {
      lateness.push(performance.now() - dueAt);
      const request = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            if ((response.statusCode ?? 500) >= 300) errors++;
            latencies.push(performance.now() - dueAt);
            resolve();
          });
        },
      );
      request.on('error', () => {
        errors++;
        resolve();
      });
      request.end(options.body);
    });
  const started = performance.now();
  const end = started + options.durationSec * 1_000;
  let sent = 0;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) / 1_000) * options.rate);
    for (; sent < due; sent++) {
      const running: Promise<void> = send(started + (sent / options.rate) * 1_000).finally(() =>
        outstanding.delete(running),
      );
      outstanding.add(running);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(outstanding);
  agent.destroy();
  return {
    requestsPerSecond: latencies.length / options.durationSec,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    completed: latencies.length,
    errors,
    clientLatenessP99: round(percentile(lateness, 99)),
  };
}
