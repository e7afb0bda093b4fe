/**
 * Prompt encoding for SD 1.x, SD 2.x and SDXL on ONNX text encoders (Optimum export names):
 * - SD 1.x / 2.x: `last_hidden_state` of `text_encoder` (SD 2.x exports are cut at the penultimate layer already);
 * - SDXL: penultimate hidden states (`hidden_states.{N-1}`) of both encoders concatenated on the channel axis, and
 *   the pooled `text_embeds` of `text_encoder_2`.
 * Distinct prompts are encoded once per call.
 * @module
 */
import type * as ort from 'onnxruntime-node';
import * as ortRuntime from 'onnxruntime-node';
import type { ModelFamily } from '../../../shared/models.js';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { createSession, fromOrtTensor, inputInfo, type ExecutionProvider, type ModelSource } from './ort-session.js';

/** Embeddings of one prompt. */
export interface PromptEmbedding {
  /** [1, 77, D] hidden states the U-Net attends to */
  hidden: Tensor;
  /** SDXL: [1, P] pooled embedding (`text_embeds` of encoder 2) */
  pooled?: Tensor;
}

interface EncoderOutputs {
  last: Tensor;
  penultimate?: Tensor;
  pooled?: Tensor;
}

/** One ONNX CLIP text encoder with its tokenizer. */
export class ClipTextEncoder {
  readonly tokenizer: ClipTokenizer;
  #session: ort.InferenceSession;
  #idsName: string;
  #idsType: string;
  #penultimateName: string | undefined;
  #pooledName: string | undefined;
  #lastName: string;

  private constructor(session: ort.InferenceSession, tokenizer: ClipTokenizer) {
    this.#session = session;
    this.tokenizer = tokenizer;
    const ids = inputInfo(session).get('input_ids') ?? [...inputInfo(session).values()][0];
    if (!ids) throw new Error('text encoder graph has no input');
    this.#idsName = ids.name;
    this.#idsType = ids.type;
    const outs = session.outputNames;
    const hiddenIdx = outs.flatMap((n) => /^hidden_states\.(\d+)$/.exec(n)?.[1] ?? []).map(Number);
    this.#penultimateName = hiddenIdx.length >= 2 ? `hidden_states.${Math.max(...hiddenIdx) - 1}` : undefined;
    this.#pooledName = outs.includes('text_embeds') ? 'text_embeds' : outs.includes('pooler_output') ? 'pooler_output' : undefined;
    this.#lastName = outs.includes('last_hidden_state') ? 'last_hidden_state' : outs[0]!;
  }

  static async create(
    source: ModelSource,
    tokenizer: ClipTokenizer,
    providers: readonly ExecutionProvider[],
    intraOpThreads?: number,
  ): Promise<ClipTextEncoder> {
    const { session } = await createSession(source, { providers, intraOpThreads });
    return new ClipTextEncoder(session, tokenizer);
  }

  /** Whether the graph exposes per-layer hidden states (needed for SDXL). */
  get hasPenultimate(): boolean {
    return this.#penultimateName !== undefined;
  }

  /**
   * Encodes prompts as one batch.
   * @returns per output, [N, 77, D] hidden states and [N, P] pooled embeddings
   */
  async encode(prompts: readonly string[]): Promise<EncoderOutputs> {
    const rows = prompts.map((p) => this.tokenizer.encodeForModel(p));
    const len = rows[0]?.length ?? 77;
    const dims = [rows.length, len];
    const ids =
      this.#idsType === 'int64'
        ? new ortRuntime.Tensor('int64', BigInt64Array.from(rows.flatMap((r) => Array.from(r, BigInt))), dims)
        : new ortRuntime.Tensor('int32', Int32Array.from(rows.flatMap((r) => Array.from(r))), dims);
    const fetches = [
      this.#lastName,
      ...(this.#penultimateName ? [this.#penultimateName] : []),
      ...(this.#pooledName ? [this.#pooledName] : []),
    ];
    const out = await this.#session.run({ [this.#idsName]: ids }, fetches);
    return {
      last: fromOrtTensor(out[this.#lastName]!),
      ...(this.#penultimateName ? { penultimate: fromOrtTensor(out[this.#penultimateName]!) } : {}),
      ...(this.#pooledName ? { pooled: fromOrtTensor(out[this.#pooledName]!) } : {}),
    };
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/** Row r of a [N, …] tensor as a [1, …] tensor (copied, so it outlives the batch buffer). */
function row(t: Tensor, r: number): Tensor {
  const size = t.data.length / t.dims[0]!;
  return { data: t.data.slice(r * size, (r + 1) * size), dims: [1, ...t.dims.slice(1)] };
}

/** Concatenates [1, S, A] and [1, S, B] on the last axis → [1, S, A+B]. */
function concatLastAxis(a: Tensor, b: Tensor): Tensor {
  const [n, s, da] = a.dims as [number, number, number];
  const db = b.dims[2]!;
  if (b.dims[0] !== n || b.dims[1] !== s) throw new RangeError(`cannot concatenate [${a.dims}] and [${b.dims}] on the last axis`);
  const out = new Float32Array(n * s * (da + db));
  for (let i = 0; i < n * s; i++) {
    out.set(a.data.subarray(i * da, (i + 1) * da), i * (da + db));
    out.set(b.data.subarray(i * db, (i + 1) * db), i * (da + db) + da);
  }
  return { data: out, dims: [n, s, da + db] };
}

/** Turns prompts into the U-Net's conditioning for one model family. */
export class PromptEncoder {
  readonly family: ModelFamily;
  #encoder: ClipTextEncoder;
  #encoder2: ClipTextEncoder | undefined;

  constructor(family: ModelFamily, encoder: ClipTextEncoder, encoder2?: ClipTextEncoder) {
    if (family === 'sdxl' && (!encoder2 || !encoder.hasPenultimate || !encoder2.hasPenultimate)) {
      throw new Error('SDXL needs two text encoders exporting hidden_states.N outputs');
    }
    this.family = family;
    this.#encoder = encoder;
    this.#encoder2 = encoder2;
  }

  /** Encodes each distinct prompt once; the map is keyed by prompt text. */
  async encode(prompts: readonly string[]): Promise<Map<string, PromptEmbedding>> {
    const distinct = [...new Set(prompts)];
    const result = new Map<string, PromptEmbedding>();
    if (distinct.length === 0) return result;
    const first = await this.#encoder.encode(distinct);
    if (this.family !== 'sdxl') {
      distinct.forEach((p, r) => {
        result.set(p, { hidden: row(first.last, r) });
      });
      return result;
    }
    const second = await this.#encoder2!.encode(distinct);
    distinct.forEach((p, r) => {
      result.set(p, {
        hidden: concatLastAxis(row(first.penultimate!, r), row(second.penultimate!, r)),
        pooled: row(second.pooled!, r),
      });
    });
    return result;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.#encoder.dispose(), this.#encoder2?.dispose()]);
  }
}
