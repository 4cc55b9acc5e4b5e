import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { join } from 'node:path';

export const APP_NAMES = ['api', 'scheduler', 'dispatcher', 'status'] as const;
export type AppName = (typeof APP_NAMES)[number];

const ROOT = join(__dirname, '..', '..', '..');
const ALIASES = join(ROOT, 'scripts', 'register-aliases.js');

export interface SupervisedApp {
  name: AppName;
  port: number;
  process: ChildProcess;
}

/**
 * Runs the four apps as separate processes (as production does), each logging to its own file or to our
 * stdout, and stops them together: SIGTERM first, SIGKILL for one that does not exit in time.
 */
export class AppSupervisor {
  private readonly apps: SupervisedApp[] = [];
  private readonly logs: WriteStream[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir?: string,
  ) {
    if (logDir) mkdirSync(logDir, { recursive: true });
  }

  start(name: AppName, port: number): SupervisedApp {
    // For profiling, e.g. APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (Node refuses these in NODE_OPTIONS).
    const nodeArgs = (process.env.APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const main = join(ROOT, `dist/apps/${name}/src/main.js`);
    const child = spawn(process.execPath, [...nodeArgs, '-r', ALIASES, main], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', this.logDir ? 'pipe' : 'inherit', this.logDir ? 'pipe' : 'inherit'],
    });
    if (this.logDir) {
      const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
      this.logs.push(log);
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    }
    const app = { name, port, process: child };
    this.apps.push(app);
    return app;
  }

  /** Resolves when every app answers /health/live; rejects naming the app that exited or did not come up. */
  async waitUntilLive(timeoutMs = 60_000): Promise<void> {
    await Promise.all(
      this.apps.map(async (app) => {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if (app.process.exitCode !== null) {
            throw new Error(
              `${app.name} exited with code ${app.process.exitCode}${this.logDir ? ` (see ${join(this.logDir, `${app.name}.log`)})` : ''}`,
            );
          }
          try {
            if ((await fetch(`http://127.0.0.1:${app.port}/health/live`)).ok) return;
          } catch {
            // not listening yet
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new Error(`${app.name} did not come up on port ${app.port} within ${timeoutMs / 1000} s`);
      }),
    );
  }

  pidOf(name: AppName): number | undefined {
    return this.apps.find((app) => app.name === name)?.process.pid;
  }

  onUnexpectedExit(handler: (app: SupervisedApp, code: number | null) => void): void {
    for (const app of this.apps) app.process.once('exit', (code) => handler(app, code));
  }

  async stopAll(graceMs = 20_000): Promise<void> {
    await Promise.all(
      this.apps.map(
        (app) =>
          new Promise<void>((resolve) => {
            if (app.process.exitCode !== null || app.process.signalCode !== null) return resolve();
            const timer = setTimeout(() => app.process.kill('SIGKILL'), graceMs);
            app.process.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            app.process.kill('SIGTERM');
          }),
      ),
    );
    for (const log of this.logs) log.end();
  }
}
