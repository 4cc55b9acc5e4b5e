import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppHttp } from '../../tools/simulator/smsgate/app-http';
import { freePort } from '../harness/free-port';
import { waitFor } from '../harness/wait-for';

const CADDYFILE = join(__dirname, '..', '..', 'deploy', 'caddy', 'Caddyfile');

/**
 * The shipped Caddyfile run by a real Caddy (the Debian package; .ci/run installs it) with `tls internal`,
 * in front of a test system's api and dispatcher, its state in a temporary directory.
 */
export class CaddyProxy {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly httpsPort: number,
    /** Caddy's local CA root: what a phone installs to trust the LAN certificate. */
    readonly rootCertificate: string,
  ) {}

  static async start(upstreams: { api: number; dispatcher: number }): Promise<CaddyProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'smsfleet-caddy-'));
    const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn('caddy', ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        XDG_DATA_HOME: join(dir, 'data'),
        XDG_CONFIG_HOME: join(dir, 'config'),
        SMSFLEET_DOMAIN: 'localhost',
        SMSFLEET_TLS: 'internal',
        SMSFLEET_HTTP_PORT: String(httpPort),
        SMSFLEET_HTTPS_PORT: String(httpsPort),
        SMSFLEET_CADDY_ADMIN: `127.0.0.1:${adminPort}`,
        SMSFLEET_API: `127.0.0.1:${upstreams.api}`,
        SMSFLEET_DISPATCHER: `127.0.0.1:${upstreams.dispatcher}`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`caddy did not start (installed? ${error.message})`)));
    });
    await spawned;
    const root = join(dir, 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt');
    try {
      await waitFor('caddy root certificate', () => existsSync(root), 20_000);
      const ca = readFileSync(root, 'utf8');
      const http = new AppHttp({ ca, userAgent: 'test' });
      await waitFor(
        'caddy serving https',
        async () =>
          (await http.call('GET', `https://localhost:${httpsPort}/mobile/v1/device`, {})).status === 200,
        20_000,
      );
      return new CaddyProxy(child, dir, httpsPort, ca);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}; caddy said: ${log}`);
    }
  }

  get baseUrl(): string {
    return `https://localhost:${this.httpsPort}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
