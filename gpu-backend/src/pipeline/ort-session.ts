/**
 * onnxruntime-node sessions: provider selection (tried in order; onnxruntime does not fall back by itself),
 * session options, feed checking and conversion between our float32 `Tensor` and the graph's dtypes.
 * @module
 */
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor/tensor.js';
import { float16ToFloat32, float32ToFloat16 } from '../tensor/float16.js';

export type ExecutionProvider = 'cuda' | 'webgpu' | 'cpu';

/**
 * Where a graph comes from: a file path (external data resolved beside it), serialized bytes, or bytes whose
 * external-data references resolve in another folder (a graph derived from a model keeps pointing at that model's
 * weight files; onnxruntime refuses links that lead out of a model's folder, and copying would duplicate gigabytes).
 */
export type ModelSource = string | Uint8Array | { bytes: Uint8Array; externalDataDir: string };

export interface SessionOptions {
  /** Providers to try in order; the first that creates the session wins. */
  providers: readonly ExecutionProvider[];
  /** Intra-op threads for the CPU provider (0 = onnxruntime's default: one per physical core). */
  intraOpThreads?: number;
}

export interface LoadedSession {
  session: ort.InferenceSession;
  provider: ExecutionProvider;
}

function ortOptions(provider: ExecutionProvider, opts: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
  };
}

/**
 * Creates a session with the first provider that works.
 * @throws Error listing every provider's failure when none works
 */
export async function createSession(source: ModelSource, opts: SessionOptions): Promise<LoadedSession> {
  const failures: string[] = [];
  for (const provider of opts.providers) {
    try {
      const options = ortOptions(provider, opts);
      const session =
        typeof source === 'string'
          ? await ort.InferenceSession.create(source, options)
          : source instanceof Uint8Array
            ? await ort.InferenceSession.create(source, options)
            : await ort.InferenceSession.create(source.bytes, {
                ...options,
                // onnxruntime's session config key for resolving external initializers of a model loaded from bytes
                extra: { session: { model_external_initializers_file_folder_path: source.externalDataDir } },
              });
      return { session, provider };
    } catch (err) {
      failures.push(`${provider}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no execution provider could load the model (${failures.join('; ')})`);
}

/** Metadata of one tensor input of a session. */
export interface InputInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

/** The tensor inputs of a session, by name. */
export function inputInfo(session: ort.InferenceSession): Map<string, InputInfo> {
  const out = new Map<string, InputInfo>();
  for (const meta of session.inputMetadata) {
    if (meta.isTensor) out.set(meta.name, { name: meta.name, type: meta.type, shape: meta.shape });
  }
  return out;
}

/**
 * Checks feeds against the session's inputs, reporting every missing and unexpected name at once.
 * @throws Error naming the missing and extra inputs
 */
export function checkFeeds(session: ort.InferenceSession, feeds: Record<string, unknown>, what: string): void {
  const missing = session.inputNames.filter((n) => !(n in feeds));
  const extra = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
  if (missing.length || extra.length) {
    throw new Error(`${what}: missing inputs [${missing.join(', ')}], unexpected inputs [${extra.join(', ')}]`);
  }
}

/** Converts a float32 tensor to an ORT tensor of the input's dtype (float32 or float16). */
export function toOrtTensor(t: Tensor, type: string): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', t.data, t.dims);
  if (type === 'float16') return new ort.Tensor('float16', float32ToFloat16(t.data), t.dims);
  throw new TypeError(`unsupported input dtype ${type}`);
}

/** Reads an ORT float32/float16 output into a float32 tensor (float32 data is not copied). */
export function fromOrtTensor(t: ort.Tensor): Tensor {
  if (t.type === 'float32') return { data: t.data as Float32Array, dims: [...t.dims] };
  if (t.type === 'float16') {
    const raw = t.data instanceof Uint16Array ? t.data : new Uint16Array((t.data as unknown as { buffer: ArrayBuffer }).buffer);
    return { data: float16ToFloat32(raw), dims: [...t.dims] };
  }
  throw new TypeError(`unsupported output dtype ${t.type}`);
}

/** A new ORT tensor with rows `rows` (indices along dim 0) of `t`, same dtype; the data is copied. */
export function selectTensorRows(t: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const rowSize = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array | Uint16Array;
  const out = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(rows.length * rowSize);
  rows.forEach((r, i) => {
    out.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
  });
  return new ort.Tensor(t.type as 'float32' | 'float16', out, [rows.length, ...t.dims.slice(1)]);
}

/**
 * The `timestep` feed a U-Net graph expects. Exporters differ: float32 or int64 or float16, rank 0 or 1, and a rank-1
 * input is either Optimum's dynamic `steps` axis (one value, expanded inside the graph) or one value per batch row.
 * @param batch rows of the sample (the U-Net batch, CFG included)
 */
export function timestepTensor(info: InputInfo, t: number, batch: number, sampleBatchDim: number | string | undefined): ort.Tensor {
  const rank = info.shape.length;
  const perRow =
    rank === 1 && ((info.shape[0] === batch && batch !== 1) || (typeof info.shape[0] === 'string' && info.shape[0] === sampleBatchDim));
  const count = rank === 0 ? 1 : perRow ? batch : 1;
  const dims = rank === 0 ? [] : [count];
  switch (info.type) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(count).fill(t), dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToFloat16(new Float32Array(count).fill(t)), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(Math.round(t))), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(count).fill(Math.round(t)), dims);
    default:
      throw new TypeError(`unsupported timestep dtype ${info.type}`);
  }
}
