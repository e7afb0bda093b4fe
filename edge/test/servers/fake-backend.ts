/**
 * The output side of a GPU backend for the edge tests (Node, loopback). Leasing and heartbeats happen in the
 * tests themselves (signed calls to the worker, see `helpers.ts`); this server does what workerd cannot do
 * cheaply: it uploads a real PNG to the S3 server under the protocol's key `<prefix>/<id>/<index>.png` and signs
 * the callback events of the jobs the tests leased. Driven through `/_test/*`:
 * - `POST /_test/jobs` `{job}`: the test leased this job (a newer attempt replaces the older one; its seq restarts)
 * - `GET /_test/jobs/:id`: the job held (404 before)
 * - `POST /_test/jobs/:id/events` `{type, …}`: builds the next signed callback event and returns it as
 *   `{path, headers, body}` for the test to deliver to the worker (`repeat: true` re-signs the last one;
 *   a succeeded completion may say `images: n` to produce fewer images than requested and `key_prefix` to store
 *   them under another prefix than the protocol's (a misbehaving backend) and `image_bytes` to store large stand-in
 *   images of that size; a completion `retryable: true` hands the prediction back).
 * @module
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { BackendJob, type BackendEvent, type StoredImage } from '../../../shared/internal.js';
import { signInternalRequest } from '../../../shared/signing.js';

export interface FakeBackendOptions {
  secret: string;
  s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
}

interface JobState {
  job: BackendJob;
  seq: number;
  last: BackendEvent | null;
}

type EventSpec =
  | { type: 'started' }
  | { type: 'progress'; step: number; total: number }
  | {
      type: 'completed';
      status: 'succeeded' | 'failed' | 'canceled' | 'aborted';
      error?: string;
      images?: number;
      retryable?: boolean;
      key_prefix?: string;
      image_bytes?: number;
    };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts a fake backend on 127.0.0.1 (port 0) and returns its base URL and server. */
export async function startFakeBackend(options: FakeBackendOptions): Promise<{ url: string; server: Server }> {
  const jobs = new Map<string, JobState>();
  const s3 = new S3Client({
    endpoint: options.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: options.s3.accessKeyId, secretAccessKey: options.s3.secretAccessKey },
  });
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toBuffer();

  /** `size` bytes starting with the PNG signature, the rest a pattern that depends on `seed` (stands in for a large image). */
  function bigImage(size: number, seed: number): Buffer {
    const out = Buffer.alloc(size);
    png.copy(out, 0, 0, Math.min(8, size));
    for (let i = 8; i < size; i++) out[i] = (i * 31 + seed * 17 + (i >> 11)) & 0xff;
    return out;
  }

  async function upload(
    job: BackendJob,
    count: number,
    keyPrefix = `${job.output_prefix}/${job.id}`,
    imageBytes?: number,
  ): Promise<StoredImage[]> {
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
    if (spec.type === 'progress')
      return { type: 'progress', ...base, step: spec.step, total: spec.total, unet: spec.step % 3 === 1 ? 'full' : 'shallow' };
    const output =
      spec.status === 'succeeded'
        ? await upload(state.job, spec.images ?? state.job.input.num_outputs, spec.key_prefix, spec.image_bytes)
        : null;
    const steps = state.job.input.num_inference_steps;
    return {
      type: 'completed',
      ...base,
      status: spec.status,
      output,
      error: spec.error ?? null,
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
      if (url.pathname === '/_test/jobs' && req.method === 'POST') {
        const job = BackendJob.parse((JSON.parse(body) as { job: unknown }).job);
        const existing = jobs.get(job.id);
        // The same attempt again keeps its events; a newer attempt replaces the old job.
        if (!existing || existing.job.attempt < job.attempt) jobs.set(job.id, { job, seq: 0, last: null });
        return send(200, { job: jobs.get(job.id)?.job });
      }
      const control = /^\/_test\/jobs\/([^/]+)(\/events)?$/.exec(url.pathname);
      if (control) {
        const state = jobs.get(control[1] ?? '');
        if (!state) return send(404, { error: 'no such job' });
        if (!control[2]) return send(200, { job: state.job });
        const spec = JSON.parse(body) as EventSpec & { repeat?: boolean };
        const event = spec.repeat && state.last ? state.last : await nextEvent(state, spec);
        state.last = event;
        const path = new URL(state.job.callback_url).pathname;
        const text = JSON.stringify(event);
        const headers = { ...(await signInternalRequest(options.secret, 'POST', path, text)), 'content-type': 'application/json' };
        return send(200, { path, headers, body: text });
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
