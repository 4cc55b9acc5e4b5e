import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as clientModels from '@kubernetes/client-node/dist/gen/models/all.js';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as read from YAML. */
export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

interface ModelClass {
  new (data: object): { validate(): void };
}

/** The kinds we ship: schema model (kubernetes-models) and field map (@kubernetes/client-node) of each. */
const KINDS: Record<string, { model: ModelClass; fields: string }> = {
  'apps/v1/Deployment': { model: Deployment, fields: 'V1Deployment' },
  'batch/v1/Job': { model: Job, fields: 'V1Job' },
  'v1/Service': { model: Service, fields: 'V1Service' },
  'v1/ConfigMap': { model: ConfigMap, fields: 'V1ConfigMap' },
  'v1/Secret': { model: Secret, fields: 'V1Secret' },
  'v1/Namespace': { model: Namespace, fields: 'V1Namespace' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, fields: 'V1PodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    fields: 'V2HorizontalPodAutoscaler',
  },
  'networking.k8s.io/v1/Ingress': { model: Ingress, fields: 'V1Ingress' },
};

interface Attribute {
  baseName: string;
  type: string;
}
const MODELS = clientModels as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>;

/**
 * Validates one object against the Kubernetes schema: types, formats and required fields (kubernetes-models),
 * and — which that schema lets through — unknown fields such as a misspelt `readinesProbe` (the field maps
 * of the official client). Returns the problems found, empty when valid.
 */
export function validateManifest(manifest: Manifest): string[] {
  const kind = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!kind) return [`unsupported kind ${manifest.apiVersion} ${manifest.kind}`];
  const problems: string[] = [];
  try {
    new kind.model(manifest).validate();
  } catch (error) {
    problems.push((error as Error).message);
  }
  unknownFields(manifest, kind.fields, manifest.kind, problems);
  return problems;
}

function unknownFields(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value))
      value.forEach((item, i) => unknownFields(item, array[1], `${path}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object')
      for (const [key, item] of Object.entries(value))
        unknownFields(item, map[1], `${path}.${key}`, problems);
    return;
  }
  const attributes = MODELS[type]?.getAttributeTypeMap?.();
  if (!attributes || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (!attribute) problems.push(`${path}.${key}: unknown field`);
    else unknownFields(item, attribute.type, `${path}.${key}`, problems);
  }
}

export function readYamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
    return document.toJS();
  });
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  labels?: Array<{ pairs: Record<string, string> }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  secretGenerator?: Array<{ name: string; behavior?: 'create' | 'merge'; literals?: string[] }>;
  patches?: Array<{ path: string }>;
}

/**
 * Renders a kustomization the way `kubectl apply -k` would for the features our files use (resources,
 * namespace, labels, images, literal secretGenerator (created, or merged into the base's), strategic-merge
 * patches of maps, scalars and the lists merged by name (containers, env, volumes; `$patch: delete`) — so that
 * the overlay's result is validated too. It refuses any other feature rather than ignore it.
 */
export function renderKustomization(dir: string): Manifest[] {
  const [spec] = readYamlDocuments(join(dir, 'kustomization.yaml')) as Array<
    Kustomization & Record<string, unknown>
  >;
  const known = [
    'apiVersion',
    'kind',
    'namespace',
    'resources',
    'labels',
    'images',
    'secretGenerator',
    'patches',
  ];
  const unsupported = Object.keys(spec).filter((key) => !known.includes(key));
  if (unsupported.length > 0)
    throw new Error(`${dir}: kustomization features not rendered here: ${unsupported}`);
  const objects: Manifest[] = [];
  for (const resource of spec.resources ?? []) {
    const path = join(dir, resource);
    if (!existsSync(path)) throw new Error(`${dir}: resource ${resource} does not exist`);
    if (statSync(path).isDirectory()) objects.push(...renderKustomization(path));
    else objects.push(...(readYamlDocuments(path) as Manifest[]));
  }
  for (const generator of spec.secretGenerator ?? []) {
    const data = Object.fromEntries(
      (generator.literals ?? []).map((literal) => {
        const at = literal.indexOf('=');
        return [literal.slice(0, at), Buffer.from(literal.slice(at + 1)).toString('base64')];
      }),
    );
    const base = objects.find((o) => o.kind === 'Secret' && o.metadata.name === generator.name);
    if (generator.behavior === 'merge') {
      if (!base) throw new Error(`${dir}: secretGenerator ${generator.name} merges into no Secret`);
      base.data = { ...(base.data as Record<string, string>), ...data };
    } else if (generator.behavior === undefined || generator.behavior === 'create')
      objects.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: generator.name },
        type: 'Opaque',
        data,
      });
    else
      throw new Error(`${dir}: secretGenerator behavior ${String(generator.behavior)} is not rendered here`);
  }
  for (const patch of spec.patches ?? []) {
    for (const change of readYamlDocuments(join(dir, patch.path)) as Manifest[]) {
      const target = objects.find((o) => o.kind === change.kind && o.metadata.name === change.metadata.name);
      if (!target)
        throw new Error(`${dir}: patch ${patch.path} targets no ${change.kind} ${change.metadata.name}`);
      merge(target, change);
    }
  }
  for (const object of objects) {
    if (spec.namespace && object.kind !== 'Namespace') object.metadata.namespace = spec.namespace;
    for (const { pairs } of spec.labels ?? [])
      object.metadata.labels = { ...object.metadata.labels, ...pairs };
    for (const container of podContainers(object)) {
      const image = spec.images?.find((i) => i.name === container.image);
      if (image) container.image = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : ''}`;
    }
  }
  return objects;
}

/** The lists Kubernetes merges item by item in a strategic-merge patch, by the field that names an item. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
};

function merge(target: Record<string, unknown>, change: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(change)) {
    const current = target[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object')
      merge(current as Record<string, unknown>, value as Record<string, unknown>);
    else if (Array.isArray(value)) target[key] = mergeList(key, (current ?? []) as unknown[], value);
    else target[key] = value;
  }
}

/** A list merged by its key: an item of the patch changes the one of the same key, is added, or deletes it. */
function mergeList(key: string, current: unknown[], change: unknown[]): unknown[] {
  const mergeKey = MERGE_KEYS[key];
  if (!mergeKey) throw new Error(`patching the list ${key} is not rendered here`);
  const items = [...current] as Array<Record<string, unknown>>;
  for (const item of change as Array<Record<string, unknown>>) {
    const at = items.findIndex((existing) => existing[mergeKey] === item[mergeKey]);
    const { $patch, ...fields } = item;
    if ($patch === 'delete') {
      if (at < 0) throw new Error(`patch deletes ${key} ${String(item[mergeKey])}, which is not there`);
      items.splice(at, 1);
    } else if ($patch !== undefined) throw new Error(`$patch: ${String($patch)} is not rendered here`);
    else if (at >= 0) merge(items[at], fields);
    else items.push(fields);
  }
  return items;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, Record<string, unknown>> }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: Record<string, unknown>;
}

/** The containers of a Deployment's or Job's pod template. */
export function podContainers(object: Manifest): Container[] {
  const spec = object.spec as { template?: { spec?: { containers?: Container[] } } } | undefined;
  return spec?.template?.spec?.containers ?? [];
}
