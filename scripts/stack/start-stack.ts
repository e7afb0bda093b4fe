/**
 * `startStack`: the whole product on this machine — S3 server, GPU backends (CPU, demo or given model; one by
 * default, each pulling work from the edge), edge in `wrangler dev` — with the development account seeded.
 * `npm start`, the end-to-end tests and the stack benchmarks all use it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendPart } from './backend-part.js';
import { startBackendFleet, type BackendFleet } from './backend-fleet.js';
import type { LogSink } from './child.js';
import { DEMO_MODEL_ID, ensureDemoModel } from './demo-model.js';
import { startEdgePart, type EdgePart } from './edge-part.js';
import { assertPortsFree, freePortRun } from './ports.js';
import { S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from './s3.js';
import { DEFAULT_DEV_API_KEY, DEV_ACCOUNT_ID, devAccountSql, topUpTo } from './seed.js';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface StackPorts {
  edge: number;
  /** The first backend's port; backend i (0-based) of the initial fleet listens on `backend + i`. */
  backend: number;
  s3: number;
  /** workerd's inspector (pinned so it never clashes with a debugger on 9229). */
  inspector: number;
}

/** The ports `npm start` uses unless EDGE_PORT / BACKEND_PORT / S3_PORT / INSPECTOR_PORT say otherwise. */
export const DEFAULT_PORTS: StackPorts = { edge: 8787, backend: 8790, s3: 9000, inspector: 9230 };

export interface StackOptions {
  ports: StackPorts;
  /** S3 data, local D1/DO/Queue state, generated env file, DeepCache graphs. */
  stateDir: string;
  /** Repository root (default: this checkout). */
  root?: string;
  /** API key of the development account (default {@link DEFAULT_DEV_API_KEY}). */
  apiKey?: string;
  /** Balance the development account is topped up to on start (default 100000). */
  credits?: number;
  /** Default: random per start. */
  adminToken?: string;
  /** Shared edge ↔ backend secret; default: random per start. */
  internalSecret?: string;
  /** Bearer token of the edge's `GET /internal/fleet/backlog`; default: random per start. */
  fleetMetricsToken?: string;
  /** A real model directory to serve instead of the demo model, under `modelId`. */
  modelDir?: string;
  /** Id the model is served under (default `sd15-tiny-demo`); must be in the catalogue (`shared/models.ts`). */
  modelId?: string;
  /** Where the demo model is built and reused (default `<root>/.local/models/sd15-tiny-demo`). */
  demoModelDir?: string;
  bucket?: string;
  prefix?: string;
  /** Backends started with the stack (default 1); more can be added later through `Stack.backends`. */
  backendsCount?: number;
  /** Extra backend variables (`gpu-backend/src/server/config.ts`). */
  backendEnv?: Record<string, string>;
  /** Extra or overriding edge vars. */
  edgeVars?: Record<string, string>;
  /** Where the backends pull work from (default: the edge); tests put a recorder in between. */
  backendsEdgeUrl?: string;
  log?: LogSink;
  /** Aborts start-up (Ctrl-C while starting): what already runs is stopped and startStack rejects. */
  signal?: AbortSignal;
}

/** A running stack. */
export interface Stack {
  readonly edgeUrl: string;
  readonly backendUrl: string;
  readonly s3Endpoint: string;
  readonly apiKey: string;
  readonly adminToken: string;
  readonly internalSecret: string;
  readonly fleetMetricsToken: string;
  readonly accountId: string;
  readonly modelId: string;
  readonly modelDir: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly s3: LocalS3;
  /** The first backend (at `backendUrl`). */
  readonly backend: BackendPart;
  /** Every backend: add, kill and drain them while the stack runs. */
  readonly backends: BackendFleet;
  readonly edge: EdgePart;
  /** Process ids of the running child parts (backends, wrangler). */
  pids(): number[];
  /** Stops the edge, the backends and the S3 server (in that order). */
  stop(): Promise<void>;
}

/**
 * Free loopback ports for a stack (tests, benchmarks): the backends' run `backend … backend + backendsCount − 1`
 * first, then the other parts outside it.
 */
export async function randomStackPorts(backendsCount = 1): Promise<StackPorts> {
  const taken: number[] = [];
  const pick = async (count: number): Promise<number> => {
    const base = await freePortRun(count, taken);
    taken.push(...Array.from({ length: count }, (_, i) => base + i));
    return base;
  };
  const backend = await pick(backendsCount);
  return { edge: await pick(1), backend, s3: await pick(1), inspector: await pick(1) };
}

const secret = (): string => randomBytes(24).toString('hex');

/** Starts every part, seeds the account, and returns once all of them are ready. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const root = options.root ?? REPO_ROOT;
  const log: LogSink = options.log ?? ((source, line) => process.stdout.write(`[${source}] ${line}\n`));
  const say = (line: string): void => log('stack', line);
  const { ports, stateDir } = options;
  const apiKey = options.apiKey ?? DEFAULT_DEV_API_KEY;
  const adminToken = options.adminToken ?? secret();
  const internalSecret = options.internalSecret ?? secret();
  const fleetMetricsToken = options.fleetMetricsToken ?? secret();
  const bucket = options.bucket ?? 'images';
  const prefix = options.prefix ?? 'predictions';
  const modelId = options.modelId ?? DEMO_MODEL_ID;
  const seedSql = await devAccountSql(apiKey);
  const backendsCount = options.backendsCount ?? 1;
  if (!Number.isInteger(backendsCount) || backendsCount < 1)
    throw new RangeError(`the stack needs at least one backend, not ${backendsCount}`);
  const backendPorts = Object.fromEntries(
    Array.from({ length: backendsCount }, (_, i) => [i === 0 ? 'BACKEND_PORT' : `BACKEND_PORT+${i}`, ports.backend + i]),
  );

  await assertPortsFree({ EDGE_PORT: ports.edge, ...backendPorts, S3_PORT: ports.s3, INSPECTOR_PORT: ports.inspector });

  const signal = options.signal;
  const interrupted = (): void => {
    if (signal?.aborted) throw new Error('start-up interrupted');
  };
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((err: unknown) => say(`stop failed: ${String(err)}`));
  };
  try {
    const s3 = await startLocalS3({ port: ports.s3, directory: path.join(stateDir, 's3'), bucket });
    stops.push(() => s3.stop());
    say(`s3      ready  ${s3.endpoint} (bucket ${bucket})`);

    interrupted();
    let modelDir = options.modelDir;
    if (modelDir === undefined) {
      const demoDir = options.demoModelDir ?? path.join(root, '.local/models/sd15-tiny-demo');
      say(`model   building the tiny demo model in ${demoDir} if it is not there yet`);
      const demo = await ensureDemoModel(demoDir);
      say(`model   ${demo.built ? 'built' : 'reused'} ${demo.dir}`);
      modelDir = demo.dir;
    }
    modelDir = path.resolve(modelDir);
    interrupted();

    const s3Credentials = { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey };
    const edgeUrl = `http://127.0.0.1:${ports.edge}`;
    const backends = await startBackendFleet(
      {
        root,
        edgeUrl: options.backendsEdgeUrl ?? edgeUrl,
        internalSecret,
        modelId,
        modelDir,
        s3: { endpoint: s3.endpoint, bucket, ...s3Credentials },
        outputPrefix: prefix,
        deepcacheCacheDir: path.join(stateDir, 'deepcache'),
        ...(options.backendEnv === undefined ? {} : { env: options.backendEnv }),
        log,
        ...(signal === undefined ? {} : { signal }),
      },
      ports.backend,
      backendsCount,
    );
    stops.push(() => backends.stop());
    interrupted();
    for (const b of backends.all())
      say(`backend ready  ${b.url} (${b.workerId}, model ${modelId}, CPU, pulling from ${options.backendsEdgeUrl ?? edgeUrl})`);

    const edge = await startEdgePart({
      root,
      port: ports.edge,
      inspectorPort: ports.inspector,
      stateDir,
      seedSql,
      log,
      ...(signal === undefined ? {} : { signal }),
      vars: {
        PUBLIC_BASE_URL: edgeUrl,
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: 'us-east-1',
        S3_BUCKET: bucket,
        S3_PREFIX: prefix,
        CORS_ORIGINS: `${edgeUrl},http://localhost:${ports.edge}`,
        ALLOW_LOOPBACK_WEBHOOKS: 'true',
        // The edge lists and accepts only the model this stack's backends serve.
        SERVED_MODELS: modelId,
        ...options.edgeVars,
      },
      secrets: {
        ADMIN_TOKEN: adminToken,
        INTERNAL_SECRET: internalSecret,
        FLEET_METRICS_TOKEN: fleetMetricsToken,
        S3_ACCESS_KEY_ID: s3Credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3Credentials.secretAccessKey,
      },
    });
    stops.push(() => edge.stop());
    interrupted();
    say(`edge    ready  ${edge.url} (wrangler dev, local D1/DO/Queues)`);

    const balance = await topUpTo(edge.url, adminToken, apiKey, DEV_ACCOUNT_ID, options.credits ?? 100_000);
    say(`account ready  ${DEV_ACCOUNT_ID} with ${balance} credits`);

    const first = backends.all()[0]!;
    return {
      edgeUrl: edge.url,
      backendUrl: first.url,
      s3Endpoint: s3.endpoint,
      apiKey,
      adminToken,
      internalSecret,
      fleetMetricsToken,
      accountId: DEV_ACCOUNT_ID,
      modelId,
      modelDir,
      bucket,
      prefix,
      s3,
      backend: first,
      backends,
      edge,
      pids: () => [...backends.running().map((b) => b.current().pid), edge.child.pid],
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
