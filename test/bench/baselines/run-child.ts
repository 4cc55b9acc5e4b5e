import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs a baseline script as its own process and returns the last JSON line it printed. */
export function runBaseline<T>(
  script: string,
  env: NodeJS.ProcessEnv,
  onLine?: (line: Record<string, unknown>) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, `${script}.js`)], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last: T | undefined;
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        onLine?.(parsed);
        last = parsed as T;
      }
    });
    child.once('exit', (code) =>
      code === 0 && last ? resolve(last) : reject(new Error(`baseline ${script} exited with ${code}`)),
    );
  });
}
