import { execFileSync, spawn, spawnSync, SpawnSyncOptions } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/** PostgreSQL's server binaries: `PG_BIN_DIR`, or the newest Debian installation. */
function binDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error('no PostgreSQL server binaries found; set PG_BIN_DIR');
  return join('/usr/lib/postgresql', versions[0], 'bin');
}

/** initdb and the server refuse to run as root: as root, run them as the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/**
 * A private PostgreSQL cluster (initdb in a temporary directory, a free port, trust auth), for faults
 * that restart or crash PostgreSQL itself: the machine's shared server must never be touched that way.
 */
export interface PostgresClusterOptions {
  /** `ssl=on` with this certificate and key (PEM files; copied into the cluster, the key made private). */
  tls?: { certFile: string; keyFile: string };
}

export class PostgresCluster {
  private readonly bin = binDir();
  private readonly user = runAs();

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: PostgresClusterOptions,
  ) {}

  static async start(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'smsfleet-pg-'));
    const cluster = new PostgresCluster(await freePort(), dir, options);
    if (cluster.user) chownSync(dir, cluster.user.uid, cluster.user.gid);
    cluster.run('initdb', [
      '-D',
      cluster.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    if (options.tls) cluster.installCertificate(options.tls);
    cluster.startAgain();
    return cluster;
  }

  /** The maintenance database's URL; TestSystem derives its own database from it. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The postmaster's pid, from its pid file (pg_ctl daemonizes it). */
  get pid(): number {
    return Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** `pg_ctl restart -m immediate`: every backend is dropped without a checkpoint; recovery replays WAL. */
  restartImmediate(): void {
    this.pgCtl('restart', ['-m', 'immediate', '-l', join(this.dir, 'postgres.log')]);
  }

  /** The same without blocking the event loop (for a caller that keeps clients running meanwhile). */
  restartImmediateInBackground(): Promise<void> {
    const args = ['restart', '-D', this.dataDir, '-w', '-t', '60', '-m', 'immediate'];
    args.push('-l', join(this.dir, 'postgres.log'));
    return new Promise((resolve, reject) => {
      const child = spawn(join(this.bin, 'pg_ctl'), args, {
        cwd: this.dir,
        stdio: ['ignore', 'ignore', 'pipe'],
        ...this.user,
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      // 'exit', not 'close': the daemonized postmaster inherits no pipe but may outlive pg_ctl's streams.
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`pg_ctl restart failed (${code}): ${stderr.trim()}`)),
      );
    });
  }

  stopImmediate(): void {
    this.pgCtl('stop', ['-m', 'immediate']);
  }

  /** The server refuses a key others may read, or one its user does not own. */
  private installCertificate(tls: { certFile: string; keyFile: string }): void {
    for (const [source, target] of [
      [tls.certFile, 'server.crt'],
      [tls.keyFile, 'server.key'],
    ]) {
      const path = join(this.dataDir, target);
      copyFileSync(source, path);
      chmodSync(path, 0o600);
      if (this.user) chownSync(path, this.user.uid, this.user.gid);
    }
  }

  /** Starts the (stopped) server again on the same port and data. */
  startAgain(): void {
    let serverOptions = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c max_connections=200`;
    if (this.options.tls) serverOptions += ' -c ssl=on';
    this.pgCtl('start', ['-l', join(this.dir, 'postgres.log'), '-o', serverOptions]);
  }

  async stop(): Promise<void> {
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) this.pgCtl('stop', ['-m', 'fast']);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pgCtl(action: string, args: string[]): void {
    this.run('pg_ctl', [action, '-D', this.dataDir, '-w', '-t', '60', ...args]);
  }

  private run(program: string, args: string[]): void {
    // stdout ignored: a daemonized postmaster would otherwise hold the pipe open and spawnSync never return.
    const options: SpawnSyncOptions = {
      encoding: 'utf8',
      cwd: this.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...this.user,
    };
    const result = spawnSync(join(this.bin, program), args, options);
    if (result.status !== 0)
      throw new Error(`${program} ${args[0]} failed (${result.status}): ${String(result.stderr).trim()}`);
  }
}
