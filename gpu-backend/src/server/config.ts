/**
 * The backend's configuration, read once from the environment and validated with zod at start.
 * A bad value produces one message naming the variable ({@link ConfigError}); `main.ts` prints it and exits 1.
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { MAX_LEASE_WAIT_MS, WorkerId } from '../../../shared/fleet.js';
import { INTERNAL_SECRET_MIN_LENGTH } from '../../../shared/internal.js';
import { ModelId } from '../../../shared/models.js';
import type { ExecutionProvider } from '../pipeline/ort-session.js';

const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Execution providers onnxruntime-node can be asked for, tried in the configured order. */
export const ExecutionProviderName = z.enum(['cuda', 'webgpu', 'cpu'] as const satisfies readonly ExecutionProvider[]);
export type ExecutionProviderName = z.infer<typeof ExecutionProviderName>;

const list = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p.length > 0),
    )
    .pipe(z.array(item).min(1, 'must list at least one entry'));

/** `id=dir` pairs, comma separated. */
const modelList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .regex(/^[^=]+=.+$/, 'each entry must be <model id>=<model directory>')
          .transform((entry) => {
            const at = entry.indexOf('=');
            return { id: entry.slice(0, at).trim(), dir: entry.slice(at + 1).trim() };
          })
          .pipe(z.object({ id: ModelId, dir: z.string().min(1) })),
      )
      .min(1, 'must list at least one model')
      .refine((ms) => new Set(ms.map((m) => m.id)).size === ms.length, 'model ids must be unique'),
  );

/** The environment variables the backend reads, with their rules and defaults. */
export const EnvSchema = z.object({
  /** The edge's base URL: the backend pulls work from its `/internal/fleet/*` endpoints. */
  EDGE_URL: z.url({ protocol: /^https?$/ }),
  /** This process's name in the fleet; default `<hostname>-<pid>-<random>` (the pod name in Kubernetes). */
  WORKER_ID: WorkerId.optional(),
  /** Long-poll wait of each lease request. */
  LEASE_WAIT_MS: int(0, MAX_LEASE_WAIT_MS).default(20_000),
  /** Time limit of a heartbeat or release request, and what a lease request may take beyond its wait. */
  FLEET_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Backoff after a failed fleet request: first delay, doubling up to FLEET_BACKOFF_MAX_MS (with jitter). */
  FLEET_BACKOFF_BASE_MS: int(1, 60_000).default(500),
  FLEET_BACKOFF_MAX_MS: int(1, 600_000).default(30_000),
  /** Port of the probes, `/metrics` and `/health-check`. */
  PORT: int(0, 65535).default(8790),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Shared secret for the HMAC on every internal request and every callback. */
  INTERNAL_SECRET: z.string().min(INTERNAL_SECRET_MIN_LENGTH, `must be at least ${INTERNAL_SECRET_MIN_LENGTH} characters`),
  /** During a rotation: the previous secret, still accepted on incoming requests (callbacks are signed with INTERNAL_SECRET). */
  INTERNAL_SECRET_PREVIOUS: z
    .string()
    .min(INTERNAL_SECRET_MIN_LENGTH, `must be at least ${INTERNAL_SECRET_MIN_LENGTH} characters`)
    .optional(),
  /** Models served: `sd15-tiny-demo=/models/sd15-tiny,...`; relative directories resolve against MODEL_DIR. */
  MODELS: modelList,
  MODEL_DIR: z.string().min(1).default('.'),
  /** Tried in order; the first that loads wins and is reported in health and logs. */
  EXECUTION_PROVIDERS: list(ExecutionProviderName).default(['cpu']),
  /** DeepCache branches whose split graphs are prepared at start (others are prepared on first use). */
  DEEPCACHE_BRANCHES: list(z.string().regex(/^\d{1,2}$/, 'must be a branch id (0–11)'))
    .transform((bs) => bs.map(Number))
    .optional(),
  /** Where DeepCache split graphs are written (one folder per model); default: inside each model directory. */
  DEEPCACHE_CACHE_DIR: z.string().min(1).optional(),
  /** onnxruntime intra-op threads per session; default: onnxruntime's choice (all cores). */
  INTRA_OP_THREADS: int(1, 256).optional(),
  /** Leased jobs waiting beyond those of the running batch; the backend holds at most QUEUE_CAPACITY + MAX_BATCH_SIZE jobs. */
  QUEUE_CAPACITY: int(1, 100_000).default(32),
  /** Most images (sum of num_outputs) in one pipeline run; a bigger single prediction runs alone. */
  MAX_BATCH_SIZE: int(1, 64).default(4),
  /** Longest a batch waits, from its first prediction's arrival, for compatible predictions to join. */
  MAX_BATCH_WAIT_MS: int(0, 60_000).default(50),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  /** Jobs may only write under this key prefix (a job's `output_prefix` must equal it or lie below it). */
  OUTPUT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'must be a key prefix like outputs or a/b')
    .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'must not contain . or .. segments')
    .default('outputs'),
  CALLBACK_MAX_ATTEMPTS: int(1, 100).default(8),
  CALLBACK_BASE_DELAY_MS: int(1, 60_000).default(250),
  CALLBACK_MAX_DELAY_MS: int(1, 3_600_000).default(30_000),
  CALLBACK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  PROGRESS_INTERVAL_MS: int(0, 60_000).default(250),
  /** On SIGTERM: how long the running batch may take to finish (then it stops and its leases go back), then how long callbacks may take to flush. */
  DRAIN_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  /** Finished predictions remembered, so one leased again is reported again instead of run twice (oldest forgotten first). */
  FINISHED_RETENTION: int(1, 1_000_000).default(10_000),
  /** Optional bearer token that also admits `GET /metrics` (for Prometheus scrapers, which cannot sign). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** The validated configuration. */
export interface Config {
  fleet: {
    edgeUrl: string;
    workerId: WorkerId;
    leaseWaitMs: number;
    timeoutMs: number;
    backoff: { baseDelayMs: number; maxDelayMs: number };
  };
  port: number;
  host: string;
  internalSecret: string;
  /** The previous internal secret, accepted on incoming requests during a rotation. */
  internalSecretPrevious: string | undefined;
  models: Array<{ id: string; dir: string }>;
  providers: ExecutionProviderName[];
  deepcacheBranches: number[] | undefined;
  deepcacheCacheDir: string | undefined;
  intraOpThreads: number | undefined;
  queueCapacity: number;
  maxBatchSize: number;
  maxBatchWaitMs: number;
  s3: {
    endpoint: string | undefined;
    region: string;
    bucket: string;
    credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    forcePathStyle: boolean;
  };
  outputPrefix: string;
  callbacks: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; timeoutMs: number; progressIntervalMs: number };
  drainTimeoutMs: number;
  finishedRetention: number;
  metricsToken: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Every environment variable name the backend reads (deployment manifests must provide the required ones). */
export const configEnvNames = Object.keys(EnvSchema.shape) as Array<keyof typeof EnvSchema.shape>;

/** A configuration problem; `message` names the variable and the rule it broke. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`invalid configuration: ${variable}: ${detail}`);
  }
}

/**
 * Parses and validates the environment.
 * @throws ConfigError naming the first offending variable
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const picked: Record<string, string> = {};
  for (const name of configEnvNames) {
    const v = env[name];
    if (v !== undefined && v !== '') picked[name] = v;
  }
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const got = picked[variable];
    const shown = got === undefined ? 'it is not set' : /SECRET|TOKEN/.test(variable) ? 'value hidden' : `got ${JSON.stringify(got)}`;
    throw new ConfigError(variable, `${issue.message} (${shown})`);
  }
  const e = parsed.data;
  if ((e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
    const missing = e.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY';
    throw new ConfigError(missing, 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together (it is not set)');
  }
  if (e.CALLBACK_MAX_DELAY_MS < e.CALLBACK_BASE_DELAY_MS) {
    throw new ConfigError('CALLBACK_MAX_DELAY_MS', `must be at least CALLBACK_BASE_DELAY_MS (${e.CALLBACK_BASE_DELAY_MS})`);
  }
  if (e.FLEET_BACKOFF_MAX_MS < e.FLEET_BACKOFF_BASE_MS) {
    throw new ConfigError('FLEET_BACKOFF_MAX_MS', `must be at least FLEET_BACKOFF_BASE_MS (${e.FLEET_BACKOFF_BASE_MS})`);
  }
  return {
    fleet: {
      edgeUrl: e.EDGE_URL,
      workerId: e.WORKER_ID ?? defaultWorkerId(),
      leaseWaitMs: e.LEASE_WAIT_MS,
      timeoutMs: e.FLEET_TIMEOUT_MS,
      backoff: { baseDelayMs: e.FLEET_BACKOFF_BASE_MS, maxDelayMs: e.FLEET_BACKOFF_MAX_MS },
    },
    port: e.PORT,
    host: e.HOST,
    internalSecret: e.INTERNAL_SECRET,
    internalSecretPrevious: e.INTERNAL_SECRET_PREVIOUS,
    models: e.MODELS.map((m) => ({ id: m.id, dir: path.resolve(e.MODEL_DIR, m.dir) })),
    providers: e.EXECUTION_PROVIDERS,
    deepcacheBranches: e.DEEPCACHE_BRANCHES,
    deepcacheCacheDir: e.DEEPCACHE_CACHE_DIR === undefined ? undefined : path.resolve(e.DEEPCACHE_CACHE_DIR),
    intraOpThreads: e.INTRA_OP_THREADS,
    queueCapacity: e.QUEUE_CAPACITY,
    maxBatchSize: e.MAX_BATCH_SIZE,
    maxBatchWaitMs: e.MAX_BATCH_WAIT_MS,
    s3: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET,
      credentials:
        e.S3_ACCESS_KEY_ID !== undefined && e.S3_SECRET_ACCESS_KEY !== undefined
          ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
          : undefined,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
    },
    outputPrefix: e.OUTPUT_PREFIX,
    callbacks: {
      maxAttempts: e.CALLBACK_MAX_ATTEMPTS,
      baseDelayMs: e.CALLBACK_BASE_DELAY_MS,
      maxDelayMs: e.CALLBACK_MAX_DELAY_MS,
      timeoutMs: e.CALLBACK_TIMEOUT_MS,
      progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    },
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    finishedRetention: e.FINISHED_RETENTION,
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
  };
}

/** `<hostname>-<pid>-<6 random hex>`, reduced to the characters and length a {@link WorkerId} allows. */
export function defaultWorkerId(hostname: string = os.hostname(), pid: number = process.pid): WorkerId {
  const suffix = `-${pid}-${crypto.getRandomValues(new Uint8Array(3)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '')}`;
  const host = hostname.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 128 - suffix.length) || 'backend';
  return WorkerId.parse(`${host}${suffix}`);
}
