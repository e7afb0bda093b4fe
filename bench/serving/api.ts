/**
 * The API side of the serving benchmark: a synchronous create (`POST /v1/predictions` with `Prefer: wait`),
 * the download of the presigned output URL, and a read (`GET /v1/predictions/:id`, which presigns again),
 * each timed on the client.
 * @module
 */
import { createHash } from 'node:crypto';

/** The parts of the prediction object the benchmark reads. */
interface PredictionBody {
  id: string;
  status: string;
  output: string[] | null;
  error: string | null;
  metrics: { predict_time?: number; total_time?: number; unet_full_steps?: number; unet_shallow_steps?: number };
}

/** One API request: client wall-clock times in ms, and the backend's own figures. */
export interface ApiSample {
  id: string;
  /** POST until the 201 with output URLs was read in full. */
  create_ms: number;
  /** GET of the presigned output URL, until every byte was read. */
  download_ms: number;
  /** GET /v1/predictions/:id (a fresh presigned URL per read). */
  get_ms: number;
  bytes: number;
  /** SHA-256 of the downloaded image (hex). */
  sha256: string;
  /** The backend's `predict_time` (start of generation to last upload), ms. */
  predict_ms: number;
  /** The edge's `total_time` (created to completed), ms; undefined when absent. */
  total_ms: number | undefined;
  unet_full_steps: number | undefined;
  unet_shallow_steps: number | undefined;
}

/** Where and as whom the requests go. */
export interface ApiTarget {
  edgeUrl: string;
  apiKey: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

async function timedJson(url: string, init: RequestInit): Promise<{ status: number; body: PredictionBody; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const ms = performance.now() - t0;
  let body: PredictionBody;
  try {
    body = JSON.parse(text) as PredictionBody;
  } catch {
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body, ms };
}

/**
 * Creates one prediction synchronously, downloads its image and reads it back once.
 * @param request a create request for one PNG image
 * @param waitS the `Prefer: wait=` seconds
 * @throws Error when the create does not answer 201 with a succeeded prediction and one output URL, the
 *   download is not a PNG, or the read does not answer 200 with an output URL
 */
export async function timeApiRequest(target: ApiTarget, request: unknown, waitS = 60): Promise<ApiSample> {
  const auth = { authorization: `Bearer ${target.apiKey}` };
  const created = await timedJson(`${target.edgeUrl}/v1/predictions`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', prefer: `wait=${waitS}` },
    body: JSON.stringify(request),
  });
  const url = created.body.output?.[0];
  if (created.status !== 201 || created.body.status !== 'succeeded' || created.body.output?.length !== 1 || url === undefined) {
    throw new Error(`POST /v1/predictions answered ${created.status}: ${JSON.stringify(created.body).slice(0, 400)}`);
  }
  const predictS = created.body.metrics.predict_time;
  if (predictS === undefined) throw new Error(`prediction ${created.body.id} has no predict_time metric`);

  const t0 = performance.now();
  const image = await fetch(url);
  const bytes = new Uint8Array(await image.arrayBuffer());
  const downloadMs = performance.now() - t0;
  if (image.status !== 200 || !PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new Error(`GET of the presigned output answered ${image.status} with ${bytes.length} bytes that are not a PNG`);
  }

  const read = await timedJson(`${target.edgeUrl}/v1/predictions/${created.body.id}`, { method: 'GET', headers: auth });
  if (read.status !== 200 || read.body.output?.length !== 1) {
    throw new Error(`GET /v1/predictions/${created.body.id} answered ${read.status}: ${JSON.stringify(read.body).slice(0, 400)}`);
  }
  const m = created.body.metrics;
  return {
    id: created.body.id,
    create_ms: created.ms,
    download_ms: downloadMs,
    get_ms: read.ms,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    predict_ms: predictS * 1000,
    total_ms: m.total_time === undefined ? undefined : m.total_time * 1000,
    unet_full_steps: m.unet_full_steps,
    unet_shallow_steps: m.unet_shallow_steps,
  };
}
