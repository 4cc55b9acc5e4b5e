import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { ALIASES, REPO_ROOT } from './repo-root';
import { waitFor } from './wait-for';

export const APP_NAMES = ['api', 'scheduler', 'dispatcher', 'status'] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Extra node flags for every app, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (not allowed in NODE_OPTIONS). */
const NODE_FLAGS = (process.env.SMSFLEET_APP_NODE_FLAGS ?? '').split(' ').filter(Boolean);

export interface AppProcessesOptions {
  logDir: string;
  /** The environment of every app, read at each start (ports may have moved meanwhile). */
  env: () => NodeJS.ProcessEnv;
  /** Environment of one instance (e.g. its dispatcher node id), over `env`. */
  instanceEnv?: (instance: string) => Record<string, string>;
  /** How long an app has to answer /health/live. */
  startTimeoutMs: number;
}

/**
 * The compiled apps as separate processes of a real system (as production runs them), shared by the e2e
 * suites, the bench and the soak. Each instance ("api", or a replica such as "dispatcher-b") gets a free
 * port and a log file; a port taken before the app binds it is retried on another, and a start that fails
 * stops what it started, so that no orphan keeps jest (or the bench) from exiting.
 */
export class AppProcesses {
  /** Port of each app instance. */
  readonly ports: Record<string, number> = {};
  readonly processes = new Map<string, ChildProcess>();

  constructor(private readonly options: AppProcessesOptions) {
    mkdirSync(options.logDir, { recursive: true });
  }

  /** Gives every app a port of its own, so that each one's environment can name the others'. */
  async assignPorts(): Promise<void> {
    for (const app of APP_NAMES) this.ports[app] ??= await freePort();
  }

  /** Starts the apps together; if one fails, stops the others and throws its error. */
  async startAll(apps: readonly AppName[]): Promise<void> {
    const started = await Promise.allSettled(apps.map((app) => this.start(app)));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      await this.stopAll().catch(() => undefined);
      throw failed.reason;
    }
  }

  /**
   * Starts an app as a process and resolves once it is live. `instance` names a further replica (its own
   * port and log); by default the instance is the app itself, on the port it had before if any.
   */
  async start(app: AppName, instance: string = app, env: Record<string, string> = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.ports[instance] ??= await freePort();
      const outcome = await this.startOnce(app, instance, env);
      if (outcome === 'started') return;
      // A free port can be taken by another process's outgoing connection before the app binds it.
      if (outcome !== 'port-taken' || attempt === 3) throw outcome;
      this.ports[instance] = await freePort();
    }
  }

  private async startOnce(
    app: AppName,
    instance: string,
    env: Record<string, string>,
  ): Promise<'started' | 'port-taken' | Error> {
    const logFile = join(this.options.logDir, `${instance}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(
      process.execPath,
      [...NODE_FLAGS, '-r', ALIASES, join(REPO_ROOT, `dist/apps/${app}/src/main.js`)],
      {
        cwd: REPO_ROOT,
        env: {
          ...this.options.env(),
          [`${app.toUpperCase()}_PORT`]: String(this.ports[instance]),
          ...this.options.instanceEnv?.(instance),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('close', () => log.end());
    let startupOutput = '';
    const keep = (chunk: Buffer) => {
      if (startupOutput.length < 65_536) startupOutput += chunk.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.processes.set(instance, child);
    // 'close', not 'exit': by then the app's last words (EADDRINUSE) have been read.
    const exited = new Promise<'port-taken' | Error>((resolve) =>
      child.once('close', (code) =>
        resolve(
          startupOutput.includes('EADDRINUSE')
            ? 'port-taken'
            : new Error(`${instance} exited with ${code} during start-up; see ${logFile}`),
        ),
      ),
    );
    const healthy = waitFor(
      `${instance} health`,
      // A bounded probe: an app that hangs must not hang its harness too.
      async () =>
        (
          await fetch(`http://127.0.0.1:${this.ports[instance]}/health/live`, {
            signal: AbortSignal.timeout(2_000),
          })
        ).ok,
      this.options.startTimeoutMs,
    ).then(() => 'started' as const);
    // Still polling when the process exited first: its late failure is no one's.
    healthy.catch(() => undefined);
    const outcome = await Promise.race([healthy, exited]);
    child.stdout?.off('data', keep);
    child.stderr?.off('data', keep);
    if (outcome !== 'started') {
      this.processes.delete(instance);
      // Not live in time but still running: stop it, or it outlives the run.
      if (outcome instanceof Error && child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
    }
    return outcome;
  }

  /** SIGKILL, no goodbye: what a crash looks like. Resolves once the process is gone. */
  async kill(instance: string): Promise<void> {
    const child = this.processes.get(instance);
    this.processes.delete(instance);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with how long the process took to exit. */
  async stop(instance: string, timeoutMs = 10_000): Promise<number> {
    const child = this.processes.get(instance);
    if (!child || child.exitCode !== null) return 0;
    this.processes.delete(instance);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const started = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    return Date.now() - started;
  }

  async stopAll(timeoutMs = 10_000): Promise<void> {
    await Promise.all([...this.processes.keys()].map((instance) => this.stop(instance, timeoutMs)));
  }

  pidOf(instance: string): number | undefined {
    return this.processes.get(instance)?.pid;
  }

  /** The log lines (JSON) an instance wrote so far. */
  logLines(instance: string): Array<Record<string, unknown>> {
    const file = join(this.options.logDir, `${instance}.log`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return text.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}
