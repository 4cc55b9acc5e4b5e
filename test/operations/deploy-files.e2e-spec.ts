import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { assertTokenSecretConfigured, configVariables, loadConfig } from '@smsfleet/config';
import { Metrics } from '@smsfleet/observability';
import {
  Container,
  Manifest,
  podContainers,
  renderKustomization,
  validateManifest,
} from '../helpers/k8s-manifests';

// Manifests are free-form YAML: the tests walk them by path and let expect() check the shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Yaml = any;

const ROOT = join(__dirname, '..', '..');
const APPS = ['api', 'dispatcher', 'scheduler', 'status'] as const;
const PREFIX: Record<(typeof APPS)[number], string> = {
  api: 'API',
  dispatcher: 'DISPATCHER',
  scheduler: 'SCHEDULER',
  status: 'STATUS',
};
const VARIABLES = new Set(configVariables().map((v) => v.name));
const ALIASES = ['node', '-r', './scripts/register-aliases.js'];

/** The command that runs an app, as package.json's start:<app> script runs it. */
function appCommand(app: string): string[] {
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  const entry = /(dist\/apps\/\S+\.js)/.exec(scripts[`start:${app}`])?.[1];
  if (!entry) throw new Error(`no start:${app} script`);
  expect(existsSync(join(ROOT, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  return [...ALIASES, entry];
}

describe('docker-compose.yml agrees with the apps and their configuration schema', () => {
  interface ComposeService {
    image?: string;
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    expose?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[] };
    restart?: string;
    profiles?: string[];
    volumes?: string[];
  }
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  /**
   * `${NAME:-default}` as compose resolves it with NAME unset; `${NAME:?message}` (required: compose stops
   * without it) as an operator sets it, with a generated value.
   */
  const interpolate = (value: string) =>
    String(value)
      .replace(/\$\{[A-Z_]+:\?[^}]*\}/g, () => randomBytes(32).toString('hex'))
      .replace(/\$\{[A-Z_]+(?::?-([^}]*))?\}/g, (_, d) => d ?? '');
  /** A service's environment as its container sees it. */
  const serviceEnv = (name: string) =>
    Object.fromEntries(
      Object.entries(compose.services[name].environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
    );

  it('has PostgreSQL, Redis (AOF, noeviction), a migrate step, the four apps and Caddy', () => {
    const always = Object.keys(compose.services).filter((name) => !compose.services[name].profiles);
    expect(always.sort()).toEqual([...APPS, 'caddy', 'migrate', 'postgres', 'redis'].sort());
    const redis = compose.services.redis.command?.join(' ') ?? '';
    expect(redis).toMatch(/--appendonly yes/);
    expect(redis).toMatch(/--maxmemory-policy noeviction/);
    expect(compose.services.postgres.healthcheck).toBeDefined();
    expect(compose.services.redis.healthcheck).toBeDefined();
    const migrate = compose.services.migrate;
    expect(migrate.command).toEqual([...ALIASES, 'dist/tools/migrate.js']);
    expect(existsSync(join(ROOT, 'tools/migrate.ts'))).toBe(true);
    expect(migrate.depends_on?.postgres).toEqual({ condition: 'service_healthy' });
    expect(migrate.restart).toBe('no');
  });

  it("gives the status app (the webhook worker opens sealed webhook secrets) the API's TOKEN_SECRET", () => {
    const tokenEnv = (name: string) =>
      Object.entries(compose.services[name].environment ?? {}).filter(([k]) => k.startsWith('TOKEN_SECRET'));
    expect(tokenEnv('status').map(([k]) => k)).toEqual(['TOKEN_SECRET', 'TOKEN_SECRET_PREVIOUS']);
    expect(tokenEnv('status')).toEqual(tokenEnv('api'));
    const status = { ...serviceEnv('status'), SMSFLEET_APP: 'status' };
    expect(() => assertTokenSecretConfigured(loadConfig(status))).not.toThrow();
    expect(() => assertTokenSecretConfigured(loadConfig({ ...status, TOKEN_SECRET: undefined }))).toThrow(
      /TOKEN_SECRET is required in production where WEBHOOK_DELIVERY is on/,
    );
  });

  it('Caddy serves HTTPS from its official image: the phones to the dispatcher unbuffered, the rest to the API', () => {
    const caddy = compose.services.caddy;
    expect(caddy.image).toMatch(/^caddy:2/);
    expect(caddy.ports).toEqual(expect.arrayContaining(['80:80', '443:443']));
    const [source, target] = (caddy.volumes ?? [])[0].split(':');
    expect(target).toBe('/etc/caddy/Caddyfile');
    expect(serviceEnv('caddy')).toEqual({ SMSFLEET_DOMAIN: 'localhost', SMSFLEET_TLS: 'internal' });
    expect(caddy.depends_on).toEqual({
      api: { condition: 'service_healthy' },
      dispatcher: { condition: 'service_healthy' },
    });
    const caddyfile = readFileSync(join(ROOT, source), 'utf8');
    const apiPort = loadConfig(serviceEnv('api')).api.port;
    const dispatcherPort = loadConfig(serviceEnv('dispatcher')).dispatcher.port;
    // The phones' block: /mobile/v1 (SSE included) and socket.io to the dispatcher, flushed at once.
    const phones = /handle @phones \{([\s\S]*?)\n\t\}/.exec(caddyfile)?.[1] ?? '';
    expect(caddyfile).toMatch(/@phones path \/mobile\/v1\/\* \/socket\.io\/\*/);
    expect(phones).toContain(`reverse_proxy {$SMSFLEET_DISPATCHER:dispatcher:${dispatcherPort}}`);
    expect(phones).toContain('flush_interval -1');
    expect(caddyfile).toContain(`reverse_proxy {$SMSFLEET_API:api:${apiPort}}`);
    expect(caddyfile).toContain('tls {$SMSFLEET_TLS:internal}');
    expect(caddyfile).toContain('{$SMSFLEET_DOMAIN:localhost} {');
  });

  it('the monitoring profile scrapes every app on its port and loads the alert rules', () => {
    const prometheus = compose.services.prometheus;
    expect(prometheus.profiles).toEqual(['monitoring']);
    for (const volume of prometheus.volumes ?? []) {
      const source = volume.split(':')[0];
      if (source.startsWith('./')) expect(existsSync(join(ROOT, source))).toBe(true);
    }
    const config = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const mounted = (prometheus.volumes ?? []).map((v) => v.split(':')[1]);
    for (const file of config.rule_files) expect(mounted).toContain(file);
    const targets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    for (const app of APPS) {
      const config = loadConfig(serviceEnv(app));
      expect(targets).toContain(`${app}:${config.monitoringPort || config[app].port}`);
    }
    // The TargetDown alert matches the job by name.
    expect(config.scrape_configs.map((job) => job.job_name)).toContain('smsfleet');
  });

  it.each(APPS)('%s: command, environment, port, health check and start order', (app) => {
    const service = compose.services[app];
    expect(service.command).toEqual(appCommand(app));
    const env = serviceEnv(app);
    const unknown = Object.keys(env).filter((name) => !VARIABLES.has(name));
    expect(unknown).toEqual([]);
    // The values pass the apps' own validation (a typo in a value fails here, not at start-up).
    const config = loadConfig(env);
    const own = config[app];
    expect(own.host).toBe('0.0.0.0');
    expect(env[`${PREFIX[app]}_PORT`]).toBe(String(own.port));
    const published = [...(service.ports ?? []), ...(service.expose ?? [])].map((p) => p.split(':').pop());
    expect(published).toContain(String(own.port));
    // Readiness on the monitoring port, which is never published.
    expect(config.monitoringPort).toBeGreaterThan(0);
    expect(service.healthcheck?.test.join(' ')).toContain(
      `http://127.0.0.1:${config.monitoringPort}/health/ready`,
    );
    expect((service.ports ?? []).map((p) => p.split(':').pop())).not.toContain(String(config.monitoringPort));
    expect(service.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(new URL(config.databaseUrl).hostname).toBe('postgres');
    expect(config.redis.target).toMatchObject({ kind: 'standalone', host: 'redis' });
  });
});

describe('deploy/compose/sentinel.yml puts the apps on Redis behind Sentinel', () => {
  interface Service {
    image?: string;
    command?: string[];
    environment?: Record<string, string>;
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[] };
  }
  const read = (file: string) =>
    parse(readFileSync(join(ROOT, file), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const base = read('docker-compose.yml');
  const override = read('deploy/compose/sentinel.yml');
  const interpolate = (value: string) =>
    String(value)
      .replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'a1b2c3d4e5f60718293a4b5c6d7e8f90')
      .replace(/\$\{[A-Z_]+(?::?-([^}]*))?\}/g, (_, d) => d ?? '');
  /** What compose gives a container: the override's environment merged over the base's, key by key. */
  const mergedEnv = (name: string) =>
    Object.fromEntries(
      Object.entries({
        ...base.services[name].environment,
        ...override.services[name].environment,
      }).map(([k, v]) => [k, interpolate(v)]),
    );
  const sentinels = Object.entries(override.services).filter(([, service]) =>
    (service.command ?? []).join(' ').includes('--sentinel'),
  );

  it.each(APPS)('%s: finds Redis through every Sentinel of the file, after they are healthy', (app) => {
    const env = mergedEnv(app);
    expect(Object.keys(env).filter((name) => !VARIABLES.has(name))).toEqual([]);
    const { redis } = loadConfig(env);
    expect(redis.target.kind).toBe('sentinel');
    if (redis.target.kind !== 'sentinel') return;
    expect(redis.target.sentinels.map(({ host, port }) => `${host}:${port}`).sort()).toEqual(
      sentinels.map(([name]) => `${name}:26379`).sort(),
    );
    expect(redis.password).toBeDefined();
    expect(redis.target.sentinelPassword).toBe(redis.password);
    for (const [name] of sentinels)
      expect(override.services[app].depends_on?.[name]).toEqual({ condition: 'service_healthy' });
    // Compose merges depends_on: the base's order (migrations, PostgreSQL, Redis) still holds.
    expect(Object.keys(base.services[app].depends_on ?? {})).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'migrate']),
    );
    for (const [, sentinel] of sentinels) {
      const script = (sentinel.command ?? []).join(' ');
      expect(script).toContain(`sentinel monitor ${redis.target.masterName} redis 6379 2`);
      expect(script).toContain(`sentinel auth-pass ${redis.target.masterName} $$REDIS_PASSWORD`);
    }
  });

  it('three Sentinels with a health check; primary and replica with AOF, noeviction and masterauth', () => {
    expect(sentinels).toHaveLength(3);
    for (const [, sentinel] of sentinels) expect(sentinel.healthcheck).toBeDefined();
    const primary = interpolate(override.services.redis.command?.join(' ') ?? '');
    const replica = interpolate(override.services['redis-replica'].command?.join(' ') ?? '');
    expect(replica).toMatch(/--replicaof redis 6379/);
    for (const node of [primary, replica]) {
      expect(node).toMatch(/--appendonly yes/);
      expect(node).toMatch(/--maxmemory-policy noeviction/);
      // A node that becomes a replica (the first primary after a failover) logs in to the new primary.
      expect(node).toMatch(/--requirepass (\S+) --masterauth \1 /);
    }
    expect(override.services['redis-replica'].healthcheck).toBeDefined();
  });
});

describe('deploy/k8s/redis-sentinel-values.yaml (Bitnami redis) gives smsfleet the Redis it needs', () => {
  const values = parse(readFileSync(join(ROOT, 'deploy/k8s/redis-sentinel-values.yaml'), 'utf8')) as Yaml;
  const header = readFileSync(join(ROOT, 'deploy/k8s/redis-sentinel-values.yaml'), 'utf8');

  it('replication with Sentinel, passwords on both, AOF and noeviction, quorum of three nodes', () => {
    expect(values.architecture).toBe('replication');
    expect(values.sentinel.enabled).toBe(true);
    expect(values.auth).toMatchObject({ enabled: true, sentinel: true });
    expect(values.replica.replicaCount).toBeGreaterThanOrEqual(3);
    expect(values.sentinel.quorum).toBeLessThanOrEqual(values.replica.replicaCount);
    expect(values.commonConfiguration).toMatch(/^appendonly yes$/m);
    expect(values.commonConfiguration).toMatch(/^maxmemory-policy noeviction$/m);
    // The variables the header tells the operator to set are valid, and name the chart's master set.
    const sentinels = /REDIS_SENTINELS=(\S+)/.exec(header)?.[1] ?? '';
    const { redis } = loadConfig({
      REDIS_SENTINELS: sentinels,
      REDIS_SENTINEL_MASTER: /REDIS_SENTINEL_MASTER=(\S+)/.exec(header)?.[1] ?? '',
    });
    expect(redis.target).toMatchObject({ kind: 'sentinel', masterName: values.sentinel.masterSet });
    if (redis.target.kind === 'sentinel')
      expect(redis.target.sentinels).toHaveLength(values.replica.replicaCount);
  });
});

describe('Kubernetes manifests validate against the Kubernetes schema and agree with the apps', () => {
  const base = renderKustomization(join(ROOT, 'deploy/k8s/base'));
  const overlay = renderKustomization(join(ROOT, 'deploy/k8s/overlays/example'));
  const sentinelOverlay = renderKustomization(join(ROOT, 'deploy/k8s/overlays/redis-sentinel'));
  const tlsOverlay = renderKustomization(join(ROOT, 'deploy/k8s/overlays/managed-tls'));
  const ALL = [
    ['base', base],
    ['overlays/example', overlay],
    ['overlays/redis-sentinel', sentinelOverlay],
    ['overlays/managed-tls', tlsOverlay],
  ] as const;
  /** Secrets the overlays read but do not make (the Redis chart's), as an operator or the chart fills them. */
  const OTHER_SECRETS: Record<string, Record<string, string>> = {
    'smsfleet-redis': { 'redis-password': randomBytes(24).toString('hex') },
  };
  /** Stands in for every certificate file a pod mounts: loadConfig checks the files are readable. */
  const standIns = mkdtempSync(join(tmpdir(), 'smsfleet-deploy-files-'));
  const standInFile = join(standIns, 'ca.pem');
  writeFileSync(standInFile, 'stand-in');
  afterAll(() => rmSync(standIns, { recursive: true, force: true }));

  it('rejects what kubectl would reject: a misspelt field, a wrong type, a missing required field', () => {
    const deployment = base.find((o) => o.kind === 'Deployment') as Manifest;
    const copy = () => JSON.parse(JSON.stringify(deployment)) as Manifest & { spec: Record<string, Yaml> };
    expect(validateManifest(copy())).toEqual([]);
    const typo = copy();
    const container = typo.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    expect(validateManifest(typo).join()).toMatch(/readinesProbe: unknown field/);
    const wrongType = copy();
    wrongType.spec.replicas = 'two';
    expect(validateManifest(wrongType)).not.toEqual([]);
    const missing = copy();
    delete missing.spec.selector;
    expect(validateManifest(missing)).not.toEqual([]);
  });

  it.each(ALL)('%s: every object is valid', (_, objects) => {
    expect(objects.length).toBeGreaterThan(10);
    const problems = objects.flatMap((o) =>
      validateManifest(o).map((p) => `${o.kind} ${o.metadata.name}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  function secretValues(objects: Manifest[]): Record<string, string> {
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'smsfleet-secrets');
    if (!secret) {
      // The base expects the Secret from its overlay: stand-ins of the right shape.
      return { DATABASE_URL: 'postgres://u:p@db:5432/smsfleet', REDIS_URL: 'redis://redis:6379/0' };
    }
    return Object.fromEntries(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString(),
      ]),
    );
  }

  /** The Secret as an operator fills it in: each placeholder of the example replaced by a generated value. */
  function operatorSecrets(objects: Manifest[]): Record<string, string> {
    const generated = randomBytes(24).toString('hex');
    return Object.fromEntries(
      Object.entries(secretValues(objects)).map(([name, value]) => [
        name,
        name === 'TOKEN_SECRET' ? randomBytes(32).toString('hex') : value.replace('change-me', generated),
      ]),
    );
  }

  /** The environment a container sees, resolved from its ConfigMap, operator-filled Secret and literal values. */
  function containerEnv(objects: Manifest[], container: Container): Record<string, string> {
    const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
    const secrets = operatorSecrets(objects);
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      const map = configMaps.find((c) => c.metadata.name === source.configMapRef?.name);
      if (!map) throw new Error(`no ConfigMap ${source.configMapRef?.name}`);
      Object.assign(env, map.data);
    }
    for (const variable of container.env ?? []) {
      const secretRef = variable.valueFrom?.secretKeyRef as { name: string; key: string } | undefined;
      if (variable.value !== undefined) env[variable.name] = variable.value;
      else if (secretRef) {
        const values = secretRef.name === 'smsfleet-secrets' ? secrets : OTHER_SECRETS[secretRef.name];
        expect(values).toBeDefined();
        if (values[secretRef.key] !== undefined) env[variable.name] = values[secretRef.key];
      } else if (variable.valueFrom?.fieldRef) env[variable.name] = 'smsfleet-pod-0';
    }
    return env;
  }

  /**
   * A certificate file (a *_FILE variable) must lie in a Secret mounted read-only in the pod; for loadConfig,
   * which checks it can be read, the path becomes a stand-in file.
   */
  function withMountedFiles(
    object: Manifest,
    container: Container,
    env: Record<string, string>,
  ): Record<string, string> {
    const volumes = ((object.spec as Yaml).template.spec.volumes ?? []) as Yaml[];
    const resolved = { ...env };
    for (const [name, path] of Object.entries(env)) {
      if (!name.endsWith('_FILE')) continue;
      const mount = (container.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
      expect({ name, readOnly: mount?.readOnly }).toEqual({ name, readOnly: true });
      expect(volumes.find((v) => v.name === mount?.name)?.secret?.secretName).toEqual(expect.any(String));
      resolved[name] = standInFile;
    }
    return resolved;
  }

  describe.each(ALL)('%s', (_, objects) => {
    const byKindName = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name) as Manifest & { spec: Yaml };

    it.each(APPS)('%s: Deployment, probes, resources, Service, PDB agree with the configuration', (app) => {
      const deployment = byKindName('Deployment', `smsfleet-${app}`);
      expect(deployment).toBeDefined();
      const [container] = podContainers(deployment);
      expect(container.command).toEqual(appCommand(app));

      const env = withMountedFiles(deployment, container, containerEnv(objects, container));
      expect(Object.keys(env).filter((name) => !VARIABLES.has(name))).toEqual([]);
      const config = loadConfig(env);
      expect(config[app].host).toBe('0.0.0.0');
      const port = container.ports?.find((p) => p.name === 'http');
      expect(port?.containerPort).toBe(config[app].port);
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.resources?.requests?.cpu).toBeDefined();
      expect(container.resources?.requests?.memory).toBeDefined();
      expect(container.resources?.limits?.memory).toBeDefined();
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
      // Drain plus shutdown fit in the grace period.
      expect(config.readinessDrainMs).toBeLessThan(
        (deployment.spec.template.spec.terminationGracePeriodSeconds * 1_000) / 2,
      );

      const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
      const selects = (selector: Record<string, string>) =>
        Object.entries(selector).every(([k, v]) => podLabels[k] === v);
      expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
      const service = byKindName('Service', `smsfleet-${app}`);
      expect(selects(service.spec.selector)).toBe(true);
      expect(service.spec.ports[0].targetPort).toBe('http');
      expect(service.spec.sessionAffinity ?? 'None').toBe('None');
      const pdb = byKindName('PodDisruptionBudget', `smsfleet-${app}`);
      expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
      if (app === 'dispatcher') expect(env.DISPATCHER_NODE_ID).toBe('smsfleet-pod-0');
    });

    it("gives the status app the API's TOKEN_SECRET (its webhook worker opens sealed secrets)", () => {
      const tokenEnv = (app: string) =>
        (podContainers(byKindName('Deployment', `smsfleet-${app}`))[0].env ?? []).filter((v) =>
          v.name.startsWith('TOKEN_SECRET'),
        );
      expect(tokenEnv('status').map((v) => v.name)).toEqual(['TOKEN_SECRET', 'TOKEN_SECRET_PREVIOUS']);
      expect(tokenEnv('status')).toEqual(tokenEnv('api'));
      if (objects !== base) {
        const [container] = podContainers(byKindName('Deployment', 'smsfleet-status'));
        const env: Record<string, string> = {
          ...withMountedFiles(
            byKindName('Deployment', 'smsfleet-status'),
            container,
            containerEnv(objects, container),
          ),
          NODE_ENV: 'production',
          SMSFLEET_APP: 'status',
        };
        expect(env.TOKEN_SECRET).toMatch(/^[0-9a-f]{64}$/);
        expect(() => assertTokenSecretConfigured(loadConfig(env))).not.toThrow();
      }
    });

    it('autoscales api and status, runs migrations in a Job', () => {
      for (const app of ['api', 'status']) {
        const hpa = byKindName('HorizontalPodAutoscaler', `smsfleet-${app}`);
        expect(hpa.spec.scaleTargetRef).toEqual({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: `smsfleet-${app}`,
        });
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      }
      const job = byKindName('Job', 'smsfleet-migrate');
      const [container] = podContainers(job);
      expect(container.command).toEqual([...ALIASES, 'dist/tools/migrate.js']);
      const env = withMountedFiles(job, container, containerEnv(objects, container));
      expect(Object.keys(env).filter((name) => !VARIABLES.has(name))).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow();
    });
  });

  it('the example overlay sets namespace, image, Secret and its patches', () => {
    expect(overlay.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'smsfleet')).toBe(true);
    const images = overlay.flatMap((o) => podContainers(o).map((c) => c.image));
    expect(new Set(images)).toEqual(new Set(['registry.example.com/smsfleet:0.1.0']));
    const dispatcher = overlay.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'smsfleet-dispatcher',
    );
    expect((dispatcher?.spec as { replicas: number }).replicas).toBe(3);
    const secrets = secretValues(overlay);
    expect(Object.keys(secrets).sort()).toEqual(['DATABASE_URL', 'REDIS_URL', 'TOKEN_SECRET']);
    // Applied unchanged, the apps refuse its placeholders by name; filled in, they start.
    expect(() => loadConfig({ NODE_ENV: 'production', ...secrets })).toThrow(/TOKEN_SECRET is a placeholder/);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', ...secrets, TOKEN_SECRET: randomBytes(32).toString('hex') }),
    ).toThrow(/DATABASE_URL has a placeholder password/);
    expect(() => loadConfig({ NODE_ENV: 'production', ...operatorSecrets(overlay) })).not.toThrow();
    const ingresses = overlay.filter((o) => o.kind === 'Ingress') as Array<Manifest & { spec: Yaml }>;
    const routes = ingresses.flatMap((ingress) =>
      ingress.spec.rules.flatMap((r: Yaml) =>
        r.http.paths.map((p: Yaml) => ({
          ingress,
          path: p.path as string,
          service: p.backend.service.name as string,
        })),
      ),
    );
    for (const { service } of routes)
      expect(overlay.some((o) => o.kind === 'Service' && o.metadata.name === service)).toBe(true);
    // The phones' paths go to the dispatchers, through an Ingress that never buffers an event stream.
    for (const path of ['/socket.io', '/mobile/v1']) {
      const route = routes.find((r) => r.path === path);
      expect(route?.service).toBe('smsfleet-dispatcher');
      const annotations = (route?.ingress.metadata as { annotations: Record<string, string> }).annotations;
      expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
      expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(
        3_600,
      );
      expect((route?.ingress.spec.tls ?? []).length).toBeGreaterThan(0);
    }
  });

  /** Each app's configuration as the overlay gives it, with the operator's values in its Secrets. */
  function appConfigs(objects: Manifest[]) {
    return APPS.map((app) => {
      const deployment = objects.find(
        (o) => o.kind === 'Deployment' && o.metadata.name === `smsfleet-${app}`,
      ) as Manifest;
      const [container] = podContainers(deployment);
      const env = withMountedFiles(deployment, container, containerEnv(objects, container));
      return { app, container, config: loadConfig({ ...env, NODE_ENV: 'production', SMSFLEET_APP: app }) };
    });
  }

  it("redis-sentinel: every app follows the chart's Sentinels, with its password, and no REDIS_URL", () => {
    const values = parse(readFileSync(join(ROOT, 'deploy/k8s/redis-sentinel-values.yaml'), 'utf8')) as Yaml;
    const header = readFileSync(join(ROOT, 'deploy/k8s/redis-sentinel-values.yaml'), 'utf8');
    const chartSentinels = /REDIS_SENTINELS=(\S+)/.exec(header)?.[1].split(',') ?? [];
    for (const { app, container, config } of appConfigs(sentinelOverlay)) {
      expect({ app, url: container.env?.some((v) => v.name === 'REDIS_URL') }).toEqual({ app, url: false });
      const { redis } = config;
      expect(redis.target.kind).toBe('sentinel');
      if (redis.target.kind !== 'sentinel') continue;
      expect(redis.target.sentinels.map(({ host, port }) => `${host}:${port}`)).toEqual(chartSentinels);
      expect(redis.target.masterName).toBe(values.sentinel.masterSet);
      // The chart's own Secret (auth.existingSecret), for Redis and for the Sentinels (auth.sentinel).
      expect(redis.password).toBe(OTHER_SECRETS['smsfleet-redis']['redis-password']);
      expect(redis.target.sentinelPassword).toBe(redis.password);
      expect(
        (container.env ?? [])
          .filter((v) => v.name.endsWith('PASSWORD'))
          .map((v) => v.valueFrom?.secretKeyRef),
      ).toEqual([
        { name: values.auth.existingSecret, key: values.auth.existingSecretPasswordKey },
        { name: values.auth.existingSecret, key: values.auth.existingSecretPasswordKey },
      ]);
    }
  });

  it('managed-tls: every app verifies Redis and PostgreSQL against CAs mounted from a Secret', () => {
    for (const { app, container, config } of appConfigs(tlsOverlay)) {
      expect({ app, redisTls: config.redis.tls?.caFile }).toEqual({ app, redisTls: standInFile });
      expect(new URL(config.databaseUrl).searchParams.get('sslmode')).toBe('verify-full');
      expect(config.databaseTls.caFile).toBe(standInFile);
      const paths = (container.env ?? []).filter((v) => v.name.endsWith('_FILE')).map((v) => v.value);
      expect(paths).toEqual(['/etc/smsfleet/tls/redis-ca.pem', '/etc/smsfleet/tls/postgres-ca.pem']);
    }
    // The migrations connect to PostgreSQL the same way.
    const job = tlsOverlay.find((o) => o.kind === 'Job') as Manifest;
    const [migrate] = podContainers(job);
    const env = withMountedFiles(job, migrate, containerEnv(tlsOverlay, migrate));
    expect(new URL(env.DATABASE_URL).searchParams.get('sslmode')).toBe('verify-full');
    expect(env.DATABASE_SSL_CA_FILE).toBe(standInFile);
    // Nothing else of the example changed: its Ingresses, replicas and image are there.
    expect(tlsOverlay.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      overlay.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
    );
  });
});

describe('alert rules and the Grafana dashboard use only metrics the apps export', () => {
  const registry = new Metrics().registry;
  /** Series names and their labels, as a scrape shows them (histograms as _bucket, _sum, _count). */
  const exported = new Map<string, Set<string>>();
  for (const metric of registry.getMetricsAsArray() as unknown as Array<{
    name: string;
    labelNames?: string[];
    constructor: { name: string };
  }>) {
    const labels = new Set([...(metric.labelNames ?? []), 'app', 'instance', 'job']);
    const names =
      metric.constructor.name === 'Histogram'
        ? ['_bucket', '_sum', '_count'].map((suffix) => `${metric.name}${suffix}`)
        : [metric.name];
    for (const name of names)
      exported.set(name, metric.constructor.name === 'Histogram' ? new Set([...labels, 'le']) : labels);
  }
  exported.set('up', new Set(['job', 'instance']));

  /** Every metric an expression names, with the label keys it matches on. */
  function check(expr: string, where: string): string[] {
    const problems: string[] = [];
    for (const [, name, matchers] of expr.matchAll(
      /\b((?:smsfleet|process|nodejs)_[a-z0-9_]+|up)\b(?:\{([^}]*)\})?/g,
    )) {
      const labels = exported.get(name);
      if (!labels) {
        problems.push(`${where}: ${name} is not exported`);
        continue;
      }
      for (const [, key] of (matchers ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g))
        if (!labels.has(key)) problems.push(`${where}: ${name} has no label ${key}`);
    }
    return problems;
  }

  const operations = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  const anchors = new Set(
    [...operations.matchAll(/^#+ (.+)$/gm)].map(([, title]) =>
      title
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );

  it('alerts: well formed, known metrics and labels, a severity, a runbook section that exists', () => {
    const file = parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
      groups: Array<{ name: string; rules: Array<Record<string, Yaml>> }>;
    };
    const rules = file.groups.flatMap((group) => group.rules);
    const names = rules.map((rule) => rule.alert as string);
    expect(names).toEqual(
      expect.arrayContaining([
        'SmsfleetBacklogAge',
        'SmsfleetAccountWithoutPhone',
        'SmsfleetDispatcherWithoutPhones',
        'SmsfleetNotReady',
        'SmsfleetExpiriesRising',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
    const problems = rules.flatMap((rule) => {
      const where = rule.alert as string;
      const found = check(rule.expr as string, where);
      if (!/^\d+[smh]$/.test(rule.for)) found.push(`${where}: "for" missing`);
      if (!['warning', 'critical'].includes(rule.labels?.severity)) found.push(`${where}: severity`);
      if (!rule.annotations?.summary || !rule.annotations?.description) found.push(`${where}: annotations`);
      const anchor = /^docs\/operations\.md#(.+)$/.exec(rule.annotations?.runbook_url ?? '')?.[1];
      if (!anchor || !anchors.has(anchor)) found.push(`${where}: runbook ${rule.annotations?.runbook_url}`);
      const open = (rule.expr.match(/\(/g) ?? []).length;
      if (open !== (rule.expr.match(/\)/g) ?? []).length) found.push(`${where}: unbalanced parentheses`);
      return found;
    });
    expect(problems).toEqual([]);
  });

  it('dashboard: valid JSON, unique panel ids, every query on exported metrics', () => {
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, 'deploy/grafana/smsfleet-dashboard.json'), 'utf8'),
    ) as {
      uid: string;
      panels: Array<{ id: number; title: string; type: string; targets?: Array<{ expr: string }> }>;
    };
    expect(dashboard.uid).toBe('smsfleet-overview');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })),
    );
    expect(queries.length).toBeGreaterThan(20);
    expect(queries.flatMap(({ title, expr }) => check(expr, title))).toEqual([]);
    // Every metric of ours appears on the dashboard.
    const shown = queries.map((q) => q.expr).join('\n');
    const ours = [...exported.keys()].filter((n) => n.startsWith('smsfleet_') && !/_(sum|count)$/.test(n));
    expect(ours.filter((name) => !shown.includes(name.replace(/_bucket$/, '')))).toEqual([]);
  });
});

describe('the production image holds the product, not the harness that measures it', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;

  it('the Dockerfile copies no test code and builds with the product tsconfig', () => {
    const copied = [...dockerfile.matchAll(/^COPY\s+(?!--from)(?:--\S+\s+)*(.+)$/gm)].flatMap((m) =>
      m[1].trim().split(/\s+/).slice(0, -1),
    );
    expect(copied).toEqual(expect.arrayContaining(['apps', 'libs', 'tools']));
    expect(copied.filter((source) => /^\.?\/?test\b/.test(source) || source === '.')).toEqual([]);
    const build = /^RUN npm run (\S+)\s*$/m.exec(dockerfile)?.[1];
    expect(build).toBe('build:image');
    expect(scripts[build as string]).toMatch(/tsc -p tsconfig\.build\.json(\s|$)/);
    // Even if it were copied, the build context leaves test/ out.
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toContain('test');
  });

  it('tsconfig.build.json compiles apps, libraries and tools, and nothing of test/ (bench, soak, harness)', () => {
    const listed = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--listFilesOnly'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(listed.status).toBe(0);
    const ours = listed.stdout
      .split('\n')
      .map((file) => relative(ROOT, file.trim()))
      .filter((file) => file && !file.startsWith('..') && !file.startsWith('node_modules'));
    expect(ours).toEqual(
      expect.arrayContaining(['apps/api/src/main.ts', 'tools/cli.ts', 'tools/migrate.ts']),
    );
    expect(ours.filter((file) => file.startsWith('test/'))).toEqual([]);
    expect(ours.filter((file) => /\.(e2e-)?spec\.ts$/.test(file))).toEqual([]);
  });
});
