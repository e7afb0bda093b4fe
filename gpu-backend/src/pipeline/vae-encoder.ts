/**
 * The VAE encoder port (Optimum's `vae_encoder/model.onnx`): images in [-1, 1] → the posterior's parameters
 * (`latent_parameters` = mean ‖ logvar on axis 1), and the posterior sample diffusers' `DiagonalGaussianDistribution`
 * draws from them (logvar clamped to [-30, 20] outside the graph). Encodes one batch row at a time, like the decoder.
 * @module
 */
import type * as ort from 'onnxruntime-node';
import { numel, type Tensor } from '../tensor/tensor.js';
import { concatRows, sliceRows } from './guidance.js';
import {
  checkFeeds,
  createSession,
  fromOrtTensor,
  inputInfo,
  toOrtTensor,
  type ExecutionProvider,
  type ModelSource,
} from './ort-session.js';

const f32 = Math.fround;

export interface VaeEncoderOptions {
  source: ModelSource;
  providers: readonly ExecutionProvider[];
  /** VAE `scaling_factor` (SD 1.x/2.x 0.18215, SDXL 0.13025): latents = scaling_factor · (z − shift_factor). */
  scalingFactor: number;
  shiftFactor?: number;
  intraOpThreads?: number;
}

/**
 * A posterior sample from the encoder's parameters: mean + exp(½·clamp(logvar, −30, 20))·eps, in float32 as torch.
 * @param params [B, 2C, h, w] mean ‖ logvar
 * @param eps [B, C, h, w] standard normal draws
 * @returns [B, C, h, w] the unscaled latent sample
 */
export function posteriorSample(params: Tensor, eps: Tensor): Tensor {
  const [b, c2, h, w] = params.dims as [number, number, number, number];
  const c = c2 / 2;
  if (!Number.isInteger(c) || eps.dims.length !== 4 || eps.dims[0] !== b || eps.dims[1] !== c || eps.dims[2] !== h || eps.dims[3] !== w) {
    throw new RangeError(`posteriorSample: eps [${eps.dims.join(', ')}] does not fit parameters [${params.dims.join(', ')}]`);
  }
  const plane = c * h * w;
  const out = new Float32Array(b * plane);
  for (let r = 0; r < b; r++) {
    const base = r * 2 * plane;
    for (let k = 0; k < plane; k++) {
      const logvar = Math.min(20, Math.max(-30, params.data[base + plane + k]!));
      const std = f32(Math.exp(f32(0.5 * logvar)));
      out[r * plane + k] = f32(params.data[base + k]! + f32(std * eps.data[r * plane + k]!));
    }
  }
  return { data: out, dims: [b, c, h, w] };
}

export class VaeEncoder {
  readonly scalingFactor: number;
  readonly shiftFactor: number;
  #session: ort.InferenceSession;
  #inputName: string;
  #inputType: string;
  #outputName: string;

  private constructor(session: ort.InferenceSession, opts: VaeEncoderOptions) {
    this.#session = session;
    this.scalingFactor = opts.scalingFactor;
    this.shiftFactor = opts.shiftFactor ?? 0;
    const info = [...inputInfo(session).values()][0];
    if (!info) throw new Error('VAE encoder graph has no tensor input');
    this.#inputName = info.name;
    this.#inputType = info.type;
    this.#outputName = session.outputNames.includes('latent_parameters') ? 'latent_parameters' : session.outputNames[0]!;
  }

  static async create(opts: VaeEncoderOptions): Promise<VaeEncoder> {
    const { session } = await createSession(opts.source, { providers: opts.providers, intraOpThreads: opts.intraOpThreads });
    return new VaeEncoder(session, opts);
  }

  /**
   * The posterior's parameters of each image.
   * @param images [B, 3, H, W] in [-1, 1]
   * @returns [B, 8, H/8, W/8] mean ‖ raw logvar
   */
  async parameters(images: Tensor): Promise<Tensor> {
    const rows: Tensor[] = [];
    for (let r = 0; r < images.dims[0]!; r++) {
      const row = sliceRows(images, r, r + 1);
      const feeds = { [this.#inputName]: toOrtTensor({ data: row.data.slice(0, numel(row.dims)), dims: row.dims }, this.#inputType) };
      checkFeeds(this.#session, feeds, 'VAE encoder');
      const out = await this.#session.run(feeds, [this.#outputName]);
      rows.push(fromOrtTensor(out[this.#outputName]!));
    }
    return concatRows(rows);
  }

  /** Scaled latents from a posterior sample: scaling_factor · (z − shift_factor), in float32. */
  scale(z: Tensor): Tensor {
    const s = f32(this.scalingFactor);
    const data = new Float32Array(z.data.length);
    for (let i = 0; i < data.length; i++) data[i] = f32(s * f32(z.data[i]! - this.shiftFactor));
    return { data, dims: [...z.dims] };
  }

  /**
   * Encodes images to scaled latents with a posterior sample drawn from `eps` (diffusers' `retrieve_latents(…,
   * sample_mode="sample")` × scaling factor).
   * @param images [B, 3, H, W] in [-1, 1]
   * @param eps [B, 4, H/8, W/8] standard normal draws (the request's seeded stream)
   */
  async encode(images: Tensor, eps: Tensor): Promise<Tensor> {
    return this.scale(posteriorSample(await this.parameters(images), eps));
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}
