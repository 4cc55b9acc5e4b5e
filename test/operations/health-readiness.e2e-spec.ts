import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AppName, TestSystem } from '../harness/test-system';
import { TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../harness/wait-for';

const APPS: AppName[] = ['api', 'scheduler', 'dispatcher', 'status'];
/** "Within seconds": how long a dependency change may take to show in readiness. */
const DOWN_WITHIN_MS = 5_000;
const UP_WITHIN_MS = 15_000;

interface Readiness {
  status: number;
  body: { status: string; details: Record<string, { status: string }> };
}

async function ready(system: TestSystem, app: AppName): Promise<Readiness> {
  const response = await fetch(`${system.url(app)}/health/ready`);
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

async function allApps(
  system: TestSystem,
  predicate: (r: Readiness) => boolean,
  apps: AppName[] = APPS,
): Promise<boolean> {
  const answers = await Promise.all(apps.map((app) => ready(system, app)));
  return answers.every(predicate);
}

/** The apps that need Redis: the status app works from PostgreSQL alone (ADR 1801). */
const REDIS_APPS = APPS.filter((app) => app !== 'status');

describe('health: readiness follows PostgreSQL and Redis (through TCP proxies the test controls)', () => {
  let system: TestSystem;
  let postgres: TcpProxy;
  let redis: TcpProxy;

  beforeAll(async () => {
    postgres = await TcpProxy.start('127.0.0.1', 5432);
    redis = await TcpProxy.start('127.0.0.1', 6379);
    system = await TestSystem.start(APPS, (s) => {
      const databaseUrl = new URL(s.databaseUrl);
      databaseUrl.port = String(postgres.port);
      return { DATABASE_URL: databaseUrl.toString(), REDIS_URL: `redis://127.0.0.1:${redis.port}/0` };
    });
  });

  afterAll(async () => {
    await postgres?.heal();
    await redis?.heal();
    await system?.stop();
    await postgres?.stop();
    await redis?.stop();
  });

  it('every app is live and ready, with each dependency named; the dispatcher also accepts sockets', async () => {
    for (const app of APPS) {
      const live = await fetch(`${system.url(app)}/health/live`);
      expect(live.status).toBe(200);
      const answer = await waitFor(`${app} ready`, async () => {
        const r = await ready(system, app);
        return r.status === 200 ? r : undefined;
      });
      expect(answer.body.status).toBe('ok');
      const expected = [
        'shutdown',
        'postgres',
        ...(app === 'status' ? [] : ['redis']),
        'migrations',
        ...(app === 'dispatcher' ? ['sockets'] : []),
      ];
      expect(Object.keys(answer.body.details).sort()).toEqual(expected.sort());
      expect(Object.values(answer.body.details).every((d) => d.status === 'up')).toBe(true);
    }
  });

  it('an app whose port another process took before it bound starts on a new one (the harness retries)', async () => {
    // Refuses nothing at the TCP level but answers nothing either: only the bind fails.
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    try {
      system.ports['status-b'] = taken;
      await system.startApp('status', 'status-b');
      expect(system.ports['status-b']).not.toBe(taken);
      expect((await fetch(`${system.url('status-b')}/health/live`)).status).toBe(200);
    } finally {
      await system.kill('status-b');
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('PostgreSQL down → every app not ready within seconds (still live); back → ready again', async () => {
    await postgres.cut();
    const cutAt = Date.now();
    await waitFor(
      'all apps not ready',
      () => allApps(system, (r) => r.status === 503 && r.body.details.postgres?.status === 'down'),
      DOWN_WITHIN_MS,
      200,
    );
    expect(Date.now() - cutAt).toBeLessThan(DOWN_WITHIN_MS);
    const answer = await ready(system, 'api');
    expect(answer.body.details.redis.status).toBe('up');
    for (const app of APPS) expect((await fetch(`${system.url(app)}/health/live`)).status).toBe(200);

    await postgres.heal();
    await waitFor('all apps ready again', () => allApps(system, (r) => r.status === 200), UP_WITHIN_MS, 250);

    // One log line per transition, not one per failing probe: they alternate (a pooled connection that died
    // with the proxy may still fail one probe after the heal, which is a real transition).
    const readinessLines = () =>
      readFileSync(join(system.logDir, 'api.log'), 'utf8')
        .split('\n')
        .filter((line) => line.includes('"context":"Readiness"'))
        .map((line) => JSON.parse(line) as { msg: string; level: number; failing?: Record<string, string> });
    // The app's stdout reaches its log file a moment later.
    const lines = await waitFor('the readiness lines', () => {
      const found = readinessLines();
      return found.at(-1)?.msg === 'ready again' ? found : undefined;
    });
    lines.forEach((line, index) => expect(line.msg).toBe(index % 2 === 0 ? 'not ready' : 'ready again'));
    expect(lines[0].level).toBe(40);
    expect(Object.keys(lines[0].failing ?? {})).toEqual(['postgres']);
  });

  it('Redis down → every app that needs it not ready within seconds; back → ready again', async () => {
    await redis.cut();
    await waitFor(
      'all apps but the status app not ready',
      () => allApps(system, (r) => r.status === 503 && r.body.details.redis?.status === 'down', REDIS_APPS),
      DOWN_WITHIN_MS,
      200,
    );
    // The status app applies reports from PostgreSQL alone: it stays ready.
    const status = await ready(system, 'status');
    expect(status.status).toBe(200);
    expect(status.body.details.postgres.status).toBe('up');
    expect(status.body.details.redis).toBeUndefined();

    await redis.heal();
    await waitFor('all apps ready again', () => allApps(system, (r) => r.status === 200), UP_WITHIN_MS, 250);
  });

  it('a pending migration keeps an app not ready until it is applied', async () => {
    await system.stopApp('status');
    const [latest] = await system.query<{ name: string }>(
      'DELETE FROM migrations WHERE id = (SELECT max(id) FROM migrations) RETURNING name',
    );
    try {
      await system.startApp('status');
      const answer = await ready(system, 'status');
      expect(answer.status).toBe(503);
      expect(answer.body.details.migrations.status).toBe('down');
      expect(JSON.stringify(answer.body.details.migrations)).toContain(latest.name);
    } finally {
      await system.query('INSERT INTO migrations (timestamp, name) VALUES ($1, $2)', [
        Number(latest.name.match(/\d{13}$/)?.[0]),
        latest.name,
      ]);
    }
    await waitFor(
      'status ready once migrated',
      async () => (await ready(system, 'status')).status === 200,
      10_000,
    );
  });
});

describe('health: SIGTERM turns readiness red first, while the app still serves', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start(['api'], { READINESS_DRAIN_MS: '3000' });
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('ready 200 → SIGTERM → ready 503 and live 200 during the drain → the process exits', async () => {
    expect((await ready(system, 'api')).status).toBe(200);
    const child = system.processes.get('api');
    if (!child) throw new Error('api not running');
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    child.kill('SIGTERM');

    const during = await waitFor(
      'readiness red',
      async () => {
        const r = await ready(system, 'api');
        return r.status === 503 ? r : undefined;
      },
      2_500,
      50,
    );
    expect(during.body.details.shutdown.status).toBe('down');
    expect((await fetch(`${system.url('api')}/health/live`)).status).toBe(200);

    let timer: NodeJS.Timeout | undefined;
    const signal = await Promise.race([
      exited,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('api did not exit within 15 s of SIGTERM')), 15_000);
      }),
    ]);
    clearTimeout(timer);
    expect(signal).toBe('SIGTERM');
    system.processes.delete('api');
  });
});
