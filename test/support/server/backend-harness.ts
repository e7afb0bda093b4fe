/**
 * Test harness: a real backend (in-process, on 127.0.0.1) pulling work from a real fleet edge
 * (`test/support/server/fleet-edge.ts`), writing to a real S3-protocol server and reporting to a real callback
 * receiver, with helpers to queue jobs at the edge, send signed requests and build jobs.
 * @module
 */
import type { BackendJob } from '../../../shared/internal.js';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { signInternalRequest } from '../../../shared/signing.js';
import { encodeImage } from '../../../gpu-backend/src/image/encode.js';
import { startTestS3, type TestS3 } from '../s3.js';
import { createBackend, type Backend } from '../../../gpu-backend/src/server/backend.js';
import { loadConfig } from '../../../gpu-backend/src/server/config.js';
import { createLogger } from '../../../gpu-backend/src/server/logger.js';
import type { LoadPipeline } from '../../../gpu-backend/src/server/pipeline-port.js';
import type { RecordView } from '../../../gpu-backend/src/server/prediction-record.js';
import { startFleetEdge, type FleetEdge, type FleetEdgeOptions } from './fleet-edge.js';
import { startCallbackReceiver, type CallbackReceiver } from './callback-receiver.js';

export const TEST_SECRET = 'backend-test-secret-0123456789abcdef';
export const TEST_MODEL = 'sd15-tiny-demo';

export interface Harness {
  backend: Backend;
  url: string;
  s3: TestS3;
  receiver: CallbackReceiver;
  edge: FleetEdge;
  logs: Array<Record<string, unknown>>;
  /** Sends a request signed with the internal secret (or unsigned with `sign: false`). */
  request(method: string, path: string, body?: unknown, opts?: { sign?: boolean; secret?: string }): Promise<Response>;
  /** Queues a job at the edge (the backend leases it when it has room). */
  submit(job: BackendJob): void;
  /** What the backend knows about a prediction (undefined before it was leased). */
  get(id: string): RecordView | undefined;
  /** Waits until the backend's view of the prediction satisfies the predicate. */
  waitForState(id: string, pred: (s: RecordView) => boolean, timeoutMs?: number): Promise<RecordView>;
  waitForHealth(status: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  modelDir: string;
  loadPipeline: LoadPipeline;
  env?: Record<string, string>;
  /** Do not wait for READY (to observe STARTING / SETUP_FAILED). */
  noWait?: boolean;
  /** Lease TTL and heartbeat period of the fleet edge. */
  edge?: Omit<FleetEdgeOptions, 'secret' | 'ended'>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const s3 = await startTestS3();
  const receiver = await startCallbackReceiver(TEST_SECRET);
  const edge = await startFleetEdge({
    secret: TEST_SECRET,
    leaseTtlMs: 5_000,
    heartbeatMs: 100,
    ...options.edge,
    ended: (id, attempt) => receiver.events.some((e) => e.prediction_id === id && e.attempt === attempt && e.type === 'completed'),
  });
  const logs: Array<Record<string, unknown>> = [];
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    EDGE_URL: edge.url,
    WORKER_ID: `test-backend-${process.pid}`,
    LEASE_WAIT_MS: '500',
    FLEET_BACKOFF_BASE_MS: '20',
    FLEET_BACKOFF_MAX_MS: '200',
    INTERNAL_SECRET: TEST_SECRET,
    MODELS: `${TEST_MODEL}=${options.modelDir}`,
    EXECUTION_PROVIDERS: 'cpu',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    CALLBACK_BASE_DELAY_MS: '5',
    CALLBACK_MAX_DELAY_MS: '50',
    MAX_BATCH_WAIT_MS: '20',
    DRAIN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  const backend = createBackend(config, { loadPipeline: options.loadPipeline, encode: encodeImage, logger });
  const { url } = await backend.listen();
  const request: Harness['request'] = async (method, path, body, opts = {}) => {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.sign !== false) Object.assign(headers, await signInternalRequest(opts.secret ?? TEST_SECRET, method, path, text));
    return fetch(`${url}${path}`, { method, headers, ...(text === '' ? {} : { body: text }) });
  };
  const get = (id: string) => backend.service.get(id);
  const h: Harness = {
    backend,
    url,
    s3,
    receiver,
    edge,
    logs,
    request,
    submit: (job) => edge.enqueue(job),
    get,
    async waitForState(id, pred, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = get(id);
        if (s && pred(s)) return s;
        if (Date.now() > deadline) throw new Error(`prediction ${id} stuck in ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async waitForHealth(status, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // A connection reset on a loaded machine is retried like a wrong answer.
        const body = (await request('GET', '/health-check').then(
          (res) => res.json(),
          (err: unknown) => ({ status: `unreachable (${String(err)})` }),
        )) as { status: string };
        if (body.status === status) return;
        if (Date.now() > deadline) throw new Error(`health stayed ${body.status}, wanted ${status}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await backend.shutdown();
      await edge.close();
      await receiver.close();
      await s3.close();
    },
  };
  if (!options.noWait) await h.waitForHealth('READY');
  return h;
}

let counter = 0;
/** A unique prediction id for tests. */
export function newId(tag: string): string {
  counter += 1;
  return `pred_${tag}_${process.pid}_${Date.now().toString(36)}_${counter}`.slice(0, 64);
}

/** A tiny-model input; override any field. */
export function tinyInput(over: Partial<ResolvedInput> = {}): ResolvedInput {
  return {
    prompt: 'a red fox in the snow',
    negative_prompt: '',
    width: 64,
    height: 64,
    num_inference_steps: 4,
    guidance_scale: 7.5,
    seed: 1234,
    scheduler: 'ddim',
    num_outputs: 1,
    output_format: 'png',
    output_quality: 90,
    deepcache: { cache_interval: 2, cache_branch_id: 0, schedule: 'uniform' },
    ...over,
  };
}

/** A job for the harness's receiver and bucket prefix. */
export function jobFor(
  h: Pick<Harness, 'receiver'>,
  id: string,
  input: Partial<ResolvedInput> = {},
  over: Partial<BackendJob> = {},
): BackendJob {
  return {
    id,
    model: TEST_MODEL,
    input: tinyInput(input),
    attempt: 1,
    output_prefix: 'outputs/test',
    callback_url: h.receiver.url,
    progress_events: true,
    ...over,
  };
}
