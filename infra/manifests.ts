/**
 * Offline loading and schema validation of the Kubernetes manifests in `infra/k8s/`.
 *
 * `loadKustomization` reads `kustomization.yaml`, parses every listed resource (multi-document YAML
 * allowed) and applies the two transformations the kustomization uses (namespace, image override), so
 * tests look at what `kubectl apply -k` would send. `validateManifest` checks an object against the
 * Kubernetes / KEDA / prometheus-operator JSON schemas bundled with `kubernetes-models`.
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

/** A parsed manifest: any Kubernetes object with apiVersion, kind and metadata.name. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface Validating {
  validate(): void;
}
type ModelFactory = (data: Manifest) => Validating;

/** The kinds this project deploys, keyed by `apiVersion/kind`. Anything else is rejected. */
const models: Record<string, ModelFactory> = {
  'v1/Namespace': (d) => new Namespace(d as never),
  'v1/ServiceAccount': (d) => new ServiceAccount(d as never),
  'v1/ConfigMap': (d) => new ConfigMap(d as never),
  'v1/Secret': (d) => new Secret(d as never),
  'v1/Service': (d) => new Service(d as never),
  'v1/PersistentVolumeClaim': (d) => new PersistentVolumeClaim(d as never),
  'apps/v1/Deployment': (d) => new Deployment(d as never),
  'policy/v1/PodDisruptionBudget': (d) => new PodDisruptionBudget(d as never),
  'keda.sh/v1alpha1/ScaledObject': (d) => new ScaledObject(d as never),
  'keda.sh/v1alpha1/TriggerAuthentication': (d) => new TriggerAuthentication(d as never),
  'monitoring.coreos.com/v1/ServiceMonitor': (d) => new ServiceMonitor(d as never),
  'monitoring.coreos.com/v1/PodMonitor': (d) => new PodMonitor(d as never),
};

/**
 * Validates one manifest against its JSON schema.
 * @throws Error naming the object and the schema violation, or the unknown kind
 */
export function validateManifest(doc: Manifest): void {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const factory = models[key];
  if (factory === undefined) throw new Error(`${key} ${doc.metadata?.name}: no schema for this kind`);
  try {
    factory(doc).validate();
  } catch (err) {
    throw new Error(`${key} ${doc.metadata?.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Parses a YAML file holding one or more documents; YAML syntax errors and warnings throw. */
export async function readYamlDocuments(file: string): Promise<unknown[]> {
  const text = await readFile(file, 'utf8');
  return parseAllDocuments(text)
    .map((doc, i) => {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length > 0) throw new Error(`${file} document ${i}: ${problems.map((p) => p.message).join('; ')}`);
      return doc.toJS() as unknown;
    })
    .filter((d) => d !== null);
}

/** The subset of kustomization.yaml this project uses. */
export interface Kustomization {
  namespace?: string;
  resources: string[];
  images?: Array<{ name: string; newName?: string; newTag?: string; digest?: string }>;
}

/** The rendered output of a kustomization plus the kustomization itself. */
export interface Rendered {
  kustomization: Kustomization;
  manifests: Manifest[];
}

/** Reads `<dir>/kustomization.yaml` and renders its resources (namespace and image overrides applied). */
export async function loadKustomization(dir: string): Promise<Rendered> {
  const [k] = await readYamlDocuments(path.join(dir, 'kustomization.yaml'));
  const kustomization = k as Kustomization;
  const manifests: Manifest[] = [];
  for (const resource of kustomization.resources) {
    for (const doc of await readYamlDocuments(path.join(dir, resource))) {
      const m = structuredClone(doc) as Manifest;
      if (kustomization.namespace !== undefined && m.kind !== 'Namespace') m.metadata.namespace = kustomization.namespace;
      applyImages(m, kustomization.images ?? []);
      manifests.push(m);
    }
  }
  return { kustomization, manifests };
}

function applyImages(m: Manifest, images: NonNullable<Kustomization['images']>): void {
  const spec = (m as { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } }).spec;
  for (const c of spec?.template?.spec?.containers ?? []) {
    const rule = images.find((i) => i.name === c.image);
    if (rule === undefined) continue;
    const name = rule.newName ?? rule.name;
    c.image = rule.digest !== undefined ? `${name}@${rule.digest}` : `${name}:${rule.newTag ?? 'latest'}`;
  }
}
