/**
 * Sessions the parity suite needs for one fixture, built once and shared by its cases: the plain U-Net, the
 * DeepCache split per branch (through `splitUnetForDeepCache`), and the VAE decoder.
 * @module
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel, serializeModel } from '../../gpu-backend/src/onnx/model-io.js';
import { splitUnetForDeepCache } from '../../gpu-backend/src/onnx/deepcache-split.js';
import type { ModelProto } from '../../gpu-backend/src/onnx/types.js';
import { OnnxUNet, DEEPCACHE_FEATURE } from '../../gpu-backend/src/pipeline/unet.js';
import { VaeDecoder } from '../../gpu-backend/src/pipeline/vae.js';
import type { FixtureDir } from './fixture-set.js';

export interface SplitSessions {
  full: ort.InferenceSession;
  shallow: ort.InferenceSession;
}

export class FixtureModels {
  readonly fixture: FixtureDir;
  #model: ModelProto | undefined;
  #plain: Promise<ort.InferenceSession> | undefined;
  #splits = new Map<number, Promise<SplitSessions>>();
  #unets = new Map<number | null, Promise<OnnxUNet>>();
  #vae: Promise<VaeDecoder> | undefined;
  #open: Array<{ release(): Promise<void> } | { dispose(): Promise<void> }> = [];

  constructor(fixture: FixtureDir) {
    this.fixture = fixture;
  }

  get unetPath(): string {
    return path.join(this.fixture.dir, this.fixture.manifest.models.unet.path);
  }

  #unetModel(): ModelProto {
    this.#model ??= loadModel(this.unetPath);
    return this.#model;
  }

  /** The exported U-Net as is. */
  plainSession(): Promise<ort.InferenceSession> {
    this.#plain ??= ort.InferenceSession.create(this.unetPath).then((s) => (this.#open.push(s), s));
    return this.#plain;
  }

  /** Raw sessions of the full and shallow graphs for one branch. */
  split(branch: number): Promise<SplitSessions> {
    let p = this.#splits.get(branch);
    if (!p) {
      p = (async () => {
        const { full, shallow } = splitUnetForDeepCache(this.#unetModel(), branch);
        const [f, s] = await Promise.all([ort.InferenceSession.create(serializeModel(full)), ort.InferenceSession.create(serializeModel(shallow))]);
        this.#open.push(f, s);
        return { full: f, shallow: s };
      })();
      this.#splits.set(branch, p);
    }
    return p;
  }

  /** The pipeline's U-Net port: plain (branch null) or with one DeepCache branch. */
  unet(branch: number | null): Promise<OnnxUNet> {
    let p = this.#unets.get(branch);
    if (!p) {
      p = (async () => {
        const u =
          branch === null
            ? await OnnxUNet.create({ full: this.unetPath, providers: ['cpu'] })
            : await (async () => {
                const { full, shallow } = await this.split(branch);
                return OnnxUNet.fromSessions(full, new Map([[branch, shallow]]), 'cpu', new Map([[branch, DEEPCACHE_FEATURE]]));
              })();
        if (branch === null) this.#open.push(u);
        return u;
      })();
      this.#unets.set(branch, p);
    }
    return p;
  }

  vae(scalingFactor: number): Promise<VaeDecoder> {
    const vaePath = this.fixture.manifest.models.vae_decoder?.path;
    if (!vaePath) throw new Error(`${this.fixture.name} has no VAE decoder`);
    this.#vae ??= VaeDecoder.create({ source: path.join(this.fixture.dir, vaePath), providers: ['cpu'], scalingFactor }).then((v) => (this.#open.push(v), v));
    return this.#vae;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.#open.map((o) => ('release' in o ? o.release() : o.dispose())));
  }
}
