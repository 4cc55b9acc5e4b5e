import autocannon from 'autocannon';

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
