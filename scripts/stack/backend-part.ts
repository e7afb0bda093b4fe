/**
 * The GPU backend as a child process (`node --import tsx gpu-backend/src/main.ts`) on the CPU provider, with
 * its configuration in the environment (its fleet name `WORKER_ID` and the edge it pulls work from,
 * `EDGE_URL`); ready when `GET /health-check` says READY. It can be killed and started again on the same port
 * (fault tests).
 * @module
 */
import path from 'node:path';
import { BackendHealth } from '../../shared/internal.js';
import { signInternalRequest } from '../../shared/signing.js';
import { spawnPart, type LogSink, type ManagedChild } from './child.js';
import { waitUntil } from './wait.js';

export interface BackendPartOptions {
  root: string;
  port: number;
  /** The process's name in the fleet (`WORKER_ID`) and its log prefix. */
  workerId: string;
  /** The edge the backend pulls work from (`EDGE_URL`). */
  edgeUrl: string;
  internalSecret: string;
  modelId: string;
  modelDir: string;
  s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  outputPrefix: string;
  /** Where DeepCache split graphs are cached. */
  deepcacheCacheDir: string;
  /** Extra or overriding backend variables (see `gpu-backend/src/server/config.ts`). */
  env?: Record<string, string>;
  log: LogSink;
  readyTimeoutMs?: number;
  /** Stops waiting for READY (the process is then stopped). */
  signal?: AbortSignal;
}

/** The backend part: the current child, and restart for fault tests. */
export interface BackendPart {
  readonly url: string;
  readonly port: number;
  readonly workerId: string;
  current(): ManagedChild;
  /** Starts a fresh process (after the last one exited or was killed) and waits for READY. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Reads the backend's health (signed); undefined when it does not answer. */
async function readBackendHealth(url: string, secret: string): Promise<BackendHealth | undefined> {
  const headers = await signInternalRequest(secret, 'GET', '/health-check', '');
  const res = await fetch(`${url}/health-check`, { headers, signal: AbortSignal.timeout(2_000) });
  const parsed = BackendHealth.safeParse(await res.json());
  return parsed.success ? parsed.data : undefined;
}

function backendEnv(o: BackendPartOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The launcher's MODEL_DIR names one model directory; the backend's means "base for relative MODELS".
  delete env.MODEL_DIR;
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: String(o.port),
    WORKER_ID: o.workerId,
    EDGE_URL: o.edgeUrl,
    INTERNAL_SECRET: o.internalSecret,
    MODELS: `${o.modelId}=${path.resolve(o.modelDir)}`,
    EXECUTION_PROVIDERS: 'cpu',
    DEEPCACHE_CACHE_DIR: o.deepcacheCacheDir,
    S3_ENDPOINT: o.s3.endpoint,
    S3_BUCKET: o.s3.bucket,
    S3_ACCESS_KEY_ID: o.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: o.s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    OUTPUT_PREFIX: o.outputPrefix,
    DRAIN_TIMEOUT_MS: '5000',
    ...o.env,
  };
}

/** Starts the backend and waits until it is READY. */
export async function startBackendPart(o: BackendPartOptions): Promise<BackendPart> {
  const url = `http://127.0.0.1:${o.port}`;
  const env = backendEnv(o);
  let child: ManagedChild | undefined;
  const launch = async (): Promise<void> => {
    const part = spawnPart({
      name: o.workerId,
      command: process.execPath,
      args: ['--import', 'tsx', path.join(o.root, 'gpu-backend/src/main.ts')],
      cwd: o.root,
      env,
      log: o.log,
    });
    child = part;
    let setupError: string | undefined;
    await waitUntil(
      `GPU backend on ${url}`,
      async () => {
        const health = await readBackendHealth(url, o.internalSecret);
        if (health?.status === 'SETUP_FAILED') setupError = health.setup_error ?? 'unknown error';
        return health?.status === 'READY' ? true : undefined;
      },
      o.readyTimeoutMs ?? 300_000,
      () => {
        if (o.signal?.aborted) return 'start-up interrupted';
        if (setupError !== undefined) return `model setup failed: ${setupError}`;
        return part.hasExited() ? 'the process exited during start-up (see its log lines above)' : undefined;
      },
    ).catch(async (err: unknown) => {
      await part.stop(2_000);
      throw err;
    });
  };
  await launch();
  return {
    url,
    port: o.port,
    workerId: o.workerId,
    current: () => child!,
    restart: launch,
    async stop() {
      if (child && !child.hasExited()) await child.stop();
    },
  };
}
