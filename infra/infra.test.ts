import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { FLEET_PATHS } from '../shared/fleet.js';
import { configEnvNames, EnvSchema, loadConfig } from '../gpu-backend/src/server/config.js';
import { loadKustomization, readYamlDocuments, validateManifest, type Manifest, type Rendered } from './manifests.js';

const k8sDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'k8s');

/** Variables the pod may set besides the backend's own configuration (read by Node itself). */
const RUNTIME_ENV_NAMES = ['NODE_OPTIONS'];

type Probe = {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port?: string | number };
  failureThreshold?: number;
  periodSeconds?: number;
};
interface Container {
  name: string;
  image: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string }>;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: Array<{ name: string; emptyDir?: unknown; persistentVolumeClaim?: { claimName: string } }>;
}
interface DeploymentSpec {
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

let rendered: Rendered;
let secretExample: Manifest;
let fleetMetricsSecretExample: Manifest;
const one = (kind: string): Manifest => {
  const found = rendered.manifests.filter((m) => m.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!;
};
const deployment = () => one('Deployment') as Manifest & { spec: DeploymentSpec };
const container = () => deployment().spec.template.spec.containers[0]!;
const configData = () => (one('ConfigMap') as Manifest & { data: Record<string, string> }).data;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
/** The backend probe path an httpGet probe asks on the container's `http` port. */
const probeMode = (p: Probe | undefined) => (p?.httpGet?.port === 'http' ? p.httpGet.path?.replace(/^\//, '') : undefined);

beforeAll(async () => {
  rendered = await loadKustomization(k8sDir);
  const [secret] = (await readYamlDocuments(path.join(k8sDir, 'secret.example.yaml'))) as Manifest[];
  if (secret === undefined) throw new Error('secret.example.yaml holds no document');
  secretExample = secret;
  const [fleetSecret] = (await readYamlDocuments(path.join(k8sDir, 'fleet-metrics-secret.example.yaml'))) as Manifest[];
  if (fleetSecret === undefined) throw new Error('fleet-metrics-secret.example.yaml holds no document');
  fleetMetricsSecretExample = fleetSecret;
});

interface MetricsApiTrigger {
  type: string;
  name?: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string; kind?: string };
}
type ScaledObjectManifest = Manifest & {
  spec: {
    scaleTargetRef: { name: string; kind?: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    advanced?: { scalingModifiers?: { formula: string; target: string; activationTarget?: string; metricType?: string } };
    triggers: MetricsApiTrigger[];
  };
};

describe('infra/k8s manifests', () => {
  it('validates every rendered object and the example Secret against the Kubernetes/KEDA/Prometheus schemas', () => {
    for (const m of [...rendered.manifests, secretExample, fleetMetricsSecretExample]) validateManifest(m);
    expect(rendered.manifests.map((m) => m.kind).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'Namespace',
        'PersistentVolumeClaim',
        'PodDisruptionBudget',
        'PodMonitor',
        'ScaledObject',
        'ServiceAccount',
        'TriggerAuthentication',
      ].sort(),
    );
  });

  it('rejects a Deployment that lacks its pod template (the validator is live)', () => {
    const broken = structuredClone(deployment()) as Manifest & { spec: Partial<DeploymentSpec> };
    delete broken.spec.template;
    expect(() => validateManifest(broken)).toThrow(/Deployment gpu-backend/);
  });

  it('puts every namespaced object in the kustomization namespace and names each object once', () => {
    const ns = rendered.kustomization.namespace;
    expect(ns).toBe(one('Namespace').metadata.name);
    const keys = rendered.manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const m of rendered.manifests.filter((x) => x.kind !== 'Namespace')) expect(m.metadata.namespace).toBe(ns);
  });

  it('runs one GPU per pod and pins the image to a version', () => {
    const c = container();
    expect(deployment().spec.template.spec.containers).toHaveLength(1);
    expect(c.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    if (c.resources?.requests?.['nvidia.com/gpu'] !== undefined) expect(c.resources.requests['nvidia.com/gpu']).toBe(1);
    expect(c.resources?.limits?.memory).toBeDefined();
    expect(c.image).toMatch(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9/_.-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
    expect(c.image).not.toMatch(/:latest$/);
  });

  it("gates startup, readiness and liveness on the backend's unsigned probe paths", () => {
    const c = container();
    expect(probeMode(c.startupProbe)).toBe('started');
    // No Service routes to the pods: readiness gates rollouts only, and a BUSY pod (full lease capacity) is working.
    expect(probeMode(c.readinessProbe)).toBe('started');
    expect(probeMode(c.livenessProbe)).toBe('live');
    // Startup allows several minutes for model loading before liveness takes over.
    expect((c.startupProbe!.failureThreshold ?? 3) * (c.startupProbe!.periodSeconds ?? 10)).toBeGreaterThanOrEqual(300);
  });

  it('gives the pod enough grace for preStop plus the service drain on SIGTERM', () => {
    const c = container();
    const cmd = c.lifecycle?.preStop?.exec?.command;
    const preStopS = c.lifecycle?.preStop?.sleep?.seconds ?? (cmd?.[0] === 'sleep' ? Number(cmd[1]) : NaN);
    expect(preStopS).toBeGreaterThan(0);
    const drainS = Number(configData()['DRAIN_TIMEOUT_MS']) / 1000;
    expect(drainS).toBeGreaterThan(0);
    // The running batch may take DRAIN_TIMEOUT_MS, then the callback flush may take it again.
    expect(deployment().spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopS + 2 * drainS + 5);
  });

  it('runs non-root, without privilege escalation, with ALL capabilities dropped and a read-only root', () => {
    const pod = deployment().spec.template.spec;
    const sc = container().securityContext!;
    expect(pod.securityContext?.runAsNonRoot ?? sc.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser ?? sc.runAsUser).toBeGreaterThan(0);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.privileged ?? false).toBe(false);
    expect(sc.capabilities?.drop).toContain('ALL');
    expect(sc.capabilities?.add ?? []).toEqual([]);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    // The only writable path is /tmp, backed by an emptyDir; models are mounted read-only at MODEL_DIR.
    const mounts = container().volumeMounts ?? [];
    const tmp = mounts.find((m) => m.mountPath === '/tmp');
    expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(mounts.find((m) => m.mountPath === configData()['MODEL_DIR'])?.readOnly).toBe(true);
  });

  it('selects the Deployment pods from the PDB and scrapes them with a PodMonitor (no Service: work is pulled, not pushed)', () => {
    const d = deployment().spec;
    const podLabels = d.template.metadata.labels;
    expect(matches(d.selector.matchLabels, podLabels)).toBe(true);
    expect(rendered.manifests.filter((m) => m.kind === 'Service')).toEqual([]);
    const pdb = one('PodDisruptionBudget') as Manifest & { spec: { selector: { matchLabels: Record<string, string> } } };
    expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    const pm = one('PodMonitor') as Manifest & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: Array<{
          port: string;
          path: string;
          authorization?: { type?: string; credentials?: { name: string; key: string } };
        }>;
      };
    };
    expect(matches(pm.spec.selector.matchLabels, podLabels)).toBe(true);
    const endpoint = pm.spec.podMetricsEndpoints.find((e) => e.path === '/metrics');
    expect(endpoint?.port).toBe('http');
    expect((container().ports ?? []).some((p) => p.name === 'http')).toBe(true);
    // Prometheus cannot sign requests: it sends the backend's METRICS_TOKEN as a bearer token
    expect(endpoint?.authorization).toEqual({ type: 'Bearer', credentials: { name: secretExample.metadata.name, key: 'METRICS_TOKEN' } });
  });

  it('names no pod or Service address anywhere: backends reach the edge at EDGE_URL', async () => {
    const edgeUrl = new URL(configData()['EDGE_URL']!);
    expect(edgeUrl.protocol).toBe('https:');
    const files = (await readdir(k8sDir)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = await readFile(path.join(k8sDir, f), 'utf8');
      expect(text, f).not.toMatch(/\.svc(\.cluster\.local)?\b|BACKEND_URLS?\b|\/predictions\/|:8790\b/);
    }
    expect(Object.keys(configData()).filter((k) => /URL/.test(k))).toEqual(['EDGE_URL']);
  });

  it('scales the Deployment from zero on the edge backlog (queued + leased) with a bearer-authenticated metrics-api trigger', () => {
    const so = one('ScaledObject') as ScaledObjectManifest;
    expect(so.spec.scaleTargetRef.name).toBe(deployment().metadata.name);
    expect(so.spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
    expect(so.spec.minReplicaCount).toBe(0);
    expect(so.spec.maxReplicaCount).toBeGreaterThanOrEqual(1);
    const backlogUrl = new URL(FLEET_PATHS.backlog, configData()['EDGE_URL']).href;
    const triggers = so.spec.triggers;
    expect(triggers.map((t) => [t.type, t.name, t.metadata['valueLocation']])).toEqual([
      ['metrics-api', 'queued', 'queued'],
      ['metrics-api', 'leased', 'leased'],
    ]);
    const auth = one('TriggerAuthentication') as Manifest & {
      spec: { secretTargetRef: Array<{ parameter: string; name: string; key: string }> };
    };
    for (const t of triggers) {
      expect(t.metadata['url']).toBe(backlogUrl);
      expect(t.metadata['format']).toBe('json');
      expect(t.metadata['authMode']).toBe('bearer');
      expect(t.authenticationRef?.name).toBe(auth.metadata.name);
      expect(t.authenticationRef?.kind ?? 'TriggerAuthentication').toBe('TriggerAuthentication');
    }
    expect(auth.spec.secretTargetRef).toEqual([
      { parameter: 'token', name: fleetMetricsSecretExample.metadata.name, key: 'FLEET_METRICS_TOKEN' },
    ]);
    expect(Object.keys((fleetMetricsSecretExample as Manifest & { stringData: Record<string, string> }).stringData)).toEqual([
      'FLEET_METRICS_TOKEN',
    ]);
    // demand = queued + leased; one replica per pod's lease capacity; any demand wakes the Deployment from zero
    const modifiers = so.spec.advanced?.scalingModifiers;
    expect(modifiers?.formula.replace(/\s+/g, '')).toBe('queued+leased');
    expect(Number(modifiers?.activationTarget)).toBe(0);
    expect(modifiers?.metricType ?? 'AverageValue').toBe('AverageValue');
    const capacity = Number(configData()['QUEUE_CAPACITY']) + Number(configData()['MAX_BATCH_SIZE']);
    expect(Number(modifiers?.target)).toBe(capacity);
  });

  it('provides every required backend variable, only known ones, and a configuration the backend accepts', () => {
    const c = container();
    const cmName = c.envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
    const secretName = c.envFrom?.find((e) => e.secretRef)?.secretRef?.name;
    expect(cmName).toBe(one('ConfigMap').metadata.name);
    expect(secretName).toBe(secretExample.metadata.name);
    const secretData = (secretExample as Manifest & { stringData: Record<string, string> }).stringData;
    const env: Record<string, string> = { ...configData(), ...secretData };
    for (const e of c.env ?? []) env[e.name] = e.value ?? '';

    const known = new Set<string>([...configEnvNames, ...RUNTIME_ENV_NAMES]);
    expect(Object.keys(env).filter((n) => !known.has(n))).toEqual([]);
    const required = configEnvNames.filter((n) => !EnvSchema.shape[n].safeParse(undefined).success);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((n) => !(n in env))).toEqual([]);
    // Secrets come from the Secret, never from the ConfigMap.
    for (const n of Object.keys(configData())) expect(n).not.toMatch(/SECRET|PASSWORD|TOKEN|ACCESS_KEY/);

    const config = loadConfig({ ...secretData, ...configData(), INTERNAL_SECRET: 'x'.repeat(64) });
    expect(config.fleet.edgeUrl).toBe(configData()['EDGE_URL']);
    expect(config.port).toBe(c.ports?.find((p) => p.name === 'http')?.containerPort);
    expect(config.providers).toEqual(['cuda']);
    for (const m of config.models) expect(m.dir.startsWith(`${configData()['MODEL_DIR']}/`)).toBe(true);
  });
});
