/**
 * The VAE decoder port: latents → images in [-1, 1]. Decodes one batch row at a time so memory stays bounded at
 * large sizes and a row's result never depends on what else is in the batch.
 * @module
 */
import type * as ort from 'onnxruntime-node';
import { numel, type Tensor } from '../tensor/tensor.js';
import { sliceRows, concatRows } from './guidance.js';
import {
  checkFeeds,
  createSession,
  fromOrtTensor,
  inputInfo,
  toOrtTensor,
  type ExecutionProvider,
  type ModelSource,
} from './ort-session.js';

export interface VaeDecoderOptions {
  source: ModelSource;
  providers: readonly ExecutionProvider[];
  /** VAE `scaling_factor` (SD 1.x/2.x 0.18215, SDXL 0.13025). */
  scalingFactor: number;
  /** VAE `shift_factor` when the model has one. */
  shiftFactor?: number;
  intraOpThreads?: number;
}

export class VaeDecoder {
  readonly scalingFactor: number;
  readonly shiftFactor: number;
  #session: ort.InferenceSession;
  #inputName: string;
  #inputType: string;

  private constructor(session: ort.InferenceSession, opts: VaeDecoderOptions) {
    this.#session = session;
    this.scalingFactor = opts.scalingFactor;
    this.shiftFactor = opts.shiftFactor ?? 0;
    const info = [...inputInfo(session).values()][0];
    if (!info) throw new Error('VAE decoder graph has no tensor input');
    this.#inputName = info.name;
    this.#inputType = info.type;
  }

  static async create(opts: VaeDecoderOptions): Promise<VaeDecoder> {
    const { session } = await createSession(opts.source, { providers: opts.providers, intraOpThreads: opts.intraOpThreads });
    return new VaeDecoder(session, opts);
  }

  /**
   * Decodes latents: `latent_sample = latents / scaling_factor + shift_factor` → decoder.
   * @param latents [B, 4, h, w] final latents of the sampler
   * @returns [B, 3, 8h, 8w] decoded samples, roughly in [-1, 1]
   */
  async decode(latents: Tensor): Promise<Tensor> {
    const rows: Tensor[] = [];
    const scale = Math.fround(this.scalingFactor);
    for (let r = 0; r < latents.dims[0]!; r++) {
      const row = sliceRows(latents, r, r + 1);
      const data = new Float32Array(numel(row.dims));
      for (let i = 0; i < data.length; i++) data[i] = row.data[i]! / scale + this.shiftFactor;
      const feeds = { [this.#inputName]: toOrtTensor({ data, dims: row.dims }, this.#inputType) };
      checkFeeds(this.#session, feeds, 'VAE decoder');
      const out = await this.#session.run(feeds);
      rows.push(fromOrtTensor(Object.values(out)[0]!));
    }
    return concatRows(rows);
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}
