/**
 * A small real GPU backend for the edge tests (Node, loopback): it speaks `shared/internal.ts` (signed
 * `PUT /predictions/:id`, `POST /predictions/:id/cancel`, `GET /health-check`), uploads a real PNG to the S3
 * server under the protocol's key `<prefix>/<id>/<index>.png`, and lets tests drive it through `/_test/*`:
 * - `POST /_test/mode` `{mode}`: `ready` | `busy` (PUT → 409) | `error` (PUT → 500) | `defunct` (health DEFUNCT)
 *   | `hold` (a PUT is recorded, so `GET /_test/jobs/:id` finds it, but answered only at `POST /_test/release`)
 * - `GET /_test/jobs/:id`: the job received (404 until dispatched) and whether a cancel arrived
 * - `POST /_test/jobs/:id/events` `{type, …}`: builds the next signed callback event and returns it as
 *   `{path, headers, body}` for the test to deliver to the worker (`repeat: true` re-signs the last one;
 *   a succeeded completion may say `images: n` to produce fewer images than requested and `key_prefix` to store
 *   them under another prefix than the protocol's (a misbehaving backend) and `image_bytes` to store large stand-in
 *   images of that size, a completion
 *   `retryable: true` hands the prediction back; a re-dispatch with a newer attempt replaces the job).
 * @module
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { BackendJob, type BackendEvent, type BackendHealth, type BackendPredictionState, type StoredImage } from '../../../shared/internal.js';
import { signInternalRequest, verifyInternalRequest } from '../../../shared/signing.js';

export type BackendMode = 'ready' | 'busy' | 'error' | 'defunct' | 'hold';

export interface FakeBackendOptions {
  secret: string;
  s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
}

interface JobState {
  job: BackendJob;
  seq: number;
  last: BackendEvent | null;
  cancelRequested: boolean;
}

type EventSpec =
  | { type: 'started' }
  | { type: 'progress'; step: number; total: number }
  | { type: 'completed'; status: 'succeeded' | 'failed' | 'canceled' | 'aborted'; error?: string; images?: number; retryable?: boolean; key_prefix?: string; image_bytes?: number };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts a fake backend on 127.0.0.1 (port 0) and returns its base URL and server. */
export async function startFakeBackend(options: FakeBackendOptions): Promise<{ url: string; server: Server }> {
  const jobs = new Map<string, JobState>();
  let mode: BackendMode = 'ready';
  /** PUTs held in `hold` mode, answered at `POST /_test/release`. */
  let held: Array<() => void> = [];
  const s3 = new S3Client({
    endpoint: options.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: options.s3.accessKeyId, secretAccessKey: options.s3.secretAccessKey },
  });
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();

  const stateOf = (s: JobState): BackendPredictionState => ({
    id: s.job.id, attempt: s.job.attempt, status: 'queued', progress: null, output: null, error: null, metrics: {},
  });

  /** `size` bytes starting with the PNG signature, the rest a pattern that depends on `seed` (stands in for a large image). */
  function bigImage(size: number, seed: number): Buffer {
    const out = Buffer.alloc(size);
    png.copy(out, 0, 0, Math.min(8, size));
    for (let i = 8; i < size; i++) out[i] = (i * 31 + seed * 17 + (i >> 11)) & 0xff;
    return out;
  }

  async function upload(job: BackendJob, count: number, keyPrefix = `${job.output_prefix}/${job.id}`, imageBytes?: number): Promise<StoredImage[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, index): Promise<StoredImage> => {
        const key = `${keyPrefix}/${index}.png`;
        const body = imageBytes === undefined ? png : bigImage(imageBytes, index);
        await s3.send(new PutObjectCommand({ Bucket: options.s3.bucket, Key: key, Body: body, ContentType: 'image/png' }));
        return { index, key, content_type: 'image/png', bytes: body.length, width: 8, height: 8 };
      }),
    );
  }

  async function nextEvent(state: JobState, spec: EventSpec): Promise<BackendEvent> {
    const base = { prediction_id: state.job.id, attempt: state.job.attempt, seq: state.seq++, at: new Date().toISOString() };
    if (spec.type === 'started') return { type: 'started', ...base };
    if (spec.type === 'progress') return { type: 'progress', ...base, step: spec.step, total: spec.total, unet: spec.step % 3 === 1 ? 'full' : 'shallow' };
    const output = spec.status === 'succeeded' ? await upload(state.job, spec.images ?? state.job.input.num_outputs, spec.key_prefix, spec.image_bytes) : null;
    const steps = state.job.input.num_inference_steps;
    return {
      type: 'completed', ...base, status: spec.status, output, error: spec.error ?? null,
      metrics: { predict_time: 0.5, unet_full_steps: Math.ceil(steps / 3), unet_shallow_steps: steps - Math.ceil(steps / 3) },
      retryable: spec.retryable ?? false,
    };
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://backend');
      const body = await readBody(req);
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      // Test control.
      if (url.pathname === '/_test/mode' && req.method === 'POST') {
        mode = (JSON.parse(body) as { mode: BackendMode }).mode;
        return send(200, { mode });
      }
      if (url.pathname === '/_test/release' && req.method === 'POST') {
        const released = held.length;
        for (const release of held) release();
        held = [];
        return send(200, { released });
      }
      const control = /^\/_test\/jobs\/([^/]+)(\/events)?$/.exec(url.pathname);
      if (control) {
        const state = jobs.get(control[1] ?? '');
        if (!state) return send(404, { error: 'no such job' });
        if (!control[2]) return send(200, { job: state.job, cancel_requested: state.cancelRequested });
        const spec = JSON.parse(body) as EventSpec & { repeat?: boolean };
        const event = spec.repeat && state.last ? state.last : await nextEvent(state, spec);
        state.last = event;
        const path = new URL(state.job.callback_url).pathname;
        const text = JSON.stringify(event);
        const headers = { ...(await signInternalRequest(options.secret, 'POST', path, text)), 'content-type': 'application/json' };
        return send(200, { path, headers, body: text });
      }
      // The internal protocol (signed).
      const refused = await verifyInternalRequest(options.secret, req.method ?? 'GET', url.pathname + url.search, body, { get: (n) => (req.headers[n] as string | undefined) ?? null });
      if (refused !== null) return send(401, { error: refused });
      if (url.pathname === '/health-check' && req.method === 'GET') {
        const health: BackendHealth = {
          status: mode === 'defunct' ? 'DEFUNCT' : 'READY', models: [], execution_provider: 'cpu',
          queue_depth: 0, queue_capacity: 8, running: 0,
        };
        return send(200, health);
      }
      const put = /^\/predictions\/([^/]+)$/.exec(url.pathname);
      if (put && req.method === 'PUT') {
        if (mode === 'busy') return send(409, { error: 'queue full' });
        if (mode === 'error') return send(500, { error: 'boom' });
        const job = BackendJob.parse(JSON.parse(body));
        const existing = jobs.get(job.id);
        // The same attempt again is idempotent; a newer attempt (re-dispatch) replaces the old job.
        if (existing && existing.job.attempt >= job.attempt) return send(200, stateOf(existing));
        const state: JobState = { job, seq: 0, last: null, cancelRequested: false };
        jobs.set(job.id, state);
        if (mode === 'hold') await new Promise<void>((resolve) => held.push(resolve));
        return send(202, stateOf(state));
      }
      const cancel = /^\/predictions\/([^/]+)\/cancel$/.exec(url.pathname);
      if (cancel && req.method === 'POST') {
        const state = jobs.get(cancel[1] ?? '');
        if (!state) return send(404, { error: 'no such job' });
        state.cancelRequested = true;
        return send(200, stateOf(state));
      }
      return send(404, { error: 'not found' });
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}
