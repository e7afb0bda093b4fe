/**
 * Sessions the parity suite needs for one fixture, built once and shared by its cases: the plain U-Net, the
 * DeepCache split per branch (through `splitUnetForDeepCache`), the VAE decoder and encoder. A fixture may ship
 * several U-Nets (`manifest.models.<key>`, e.g. a 9-channel inpainting one); `unet` is the default.
 * @module
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel, serializeModel } from '../../gpu-backend/src/onnx/model-io.js';
import { splitUnetForDeepCache } from '../../gpu-backend/src/onnx/deepcache-split.js';
import type { ModelProto } from '../../gpu-backend/src/onnx/types.js';
import { OnnxUNet, DEEPCACHE_FEATURE } from '../../gpu-backend/src/pipeline/unet.js';
import { VaeDecoder } from '../../gpu-backend/src/pipeline/vae.js';
import { VaeEncoder } from '../../gpu-backend/src/pipeline/vae-encoder.js';
import type { FixtureDir } from './fixture-set.js';

export interface SplitSessions {
  full: ort.InferenceSession;
  shallow: ort.InferenceSession;
}

export class FixtureModels {
  readonly fixture: FixtureDir;
  #models = new Map<string, ModelProto>();
  #plain: Promise<ort.InferenceSession> | undefined;
  #splits = new Map<string, Promise<SplitSessions>>();
  #unets = new Map<string, Promise<OnnxUNet>>();
  #vae: Promise<VaeDecoder> | undefined;
  #encoder: Promise<VaeEncoder> | undefined;
  #open: Array<{ release(): Promise<void> } | { dispose(): Promise<void> }> = [];

  constructor(fixture: FixtureDir) {
    this.fixture = fixture;
  }

  get unetPath(): string {
    return this.unetPathOf('unet');
  }

  /** Path of the U-Net the manifest lists under `models[key]`. */
  unetPathOf(key: string): string {
    const entry = (this.fixture.manifest.models as Record<string, { path?: unknown } | null | undefined>)[key];
    if (!entry || typeof entry.path !== 'string') throw new Error(`${this.fixture.name} has no model "${key}"`);
    return path.join(this.fixture.dir, entry.path);
  }

  /** The manifest key of the model at a fixture-relative path (cases name their U-Net by path). */
  modelKeyOfPath(relative: string): string {
    const found = Object.entries(this.fixture.manifest.models).find(([, m]) => (m as { path?: unknown } | null)?.path === relative);
    if (!found) throw new Error(`${this.fixture.name}: no model at ${relative}`);
    return found[0];
  }

  #unetModel(key: string): ModelProto {
    let m = this.#models.get(key);
    if (!m) this.#models.set(key, (m = loadModel(this.unetPathOf(key))));
    return m;
  }

  /** The exported U-Net as is. */
  plainSession(): Promise<ort.InferenceSession> {
    this.#plain ??= ort.InferenceSession.create(this.unetPath).then((s) => (this.#open.push(s), s));
    return this.#plain;
  }

  /** Raw sessions of the full and shallow graphs for one branch (of the U-Net `models[key]`). */
  split(branch: number, key = 'unet'): Promise<SplitSessions> {
    let p = this.#splits.get(`${key}:${branch}`);
    if (!p) {
      p = (async () => {
        const { full, shallow } = splitUnetForDeepCache(this.#unetModel(key), branch);
        const [f, s] = await Promise.all([
          ort.InferenceSession.create(serializeModel(full)),
          ort.InferenceSession.create(serializeModel(shallow)),
        ]);
        this.#open.push(f, s);
        return { full: f, shallow: s };
      })();
      this.#splits.set(`${key}:${branch}`, p);
    }
    return p;
  }

  /** The pipeline's U-Net port: plain (branch null) or with one DeepCache branch (of the U-Net `models[key]`). */
  unet(branch: number | null, key = 'unet'): Promise<OnnxUNet> {
    let p = this.#unets.get(`${key}:${branch}`);
    if (!p) {
      p = (async () => {
        const u =
          branch === null
            ? await OnnxUNet.create({ full: this.unetPathOf(key), providers: ['cpu'] })
            : await (async () => {
                const { full, shallow } = await this.split(branch, key);
                return OnnxUNet.fromSessions(full, new Map([[branch, shallow]]), 'cpu', new Map([[branch, DEEPCACHE_FEATURE]]));
              })();
        if (branch === null) this.#open.push(u);
        return u;
      })();
      this.#unets.set(`${key}:${branch}`, p);
    }
    return p;
  }

  vae(scalingFactor: number): Promise<VaeDecoder> {
    const vaePath = this.fixture.manifest.models.vae_decoder?.path;
    if (!vaePath) throw new Error(`${this.fixture.name} has no VAE decoder`);
    this.#vae ??= VaeDecoder.create({ source: path.join(this.fixture.dir, vaePath), providers: ['cpu'], scalingFactor }).then(
      (v) => (this.#open.push(v), v),
    );
    return this.#vae;
  }

  vaeEncoder(scalingFactor: number): Promise<VaeEncoder> {
    const encoderPath = (this.fixture.manifest.models as Record<string, { path?: string } | null | undefined>).vae_encoder?.path;
    if (!encoderPath) throw new Error(`${this.fixture.name} has no VAE encoder`);
    this.#encoder ??= VaeEncoder.create({ source: path.join(this.fixture.dir, encoderPath), providers: ['cpu'], scalingFactor }).then(
      (v) => (this.#open.push(v), v),
    );
    return this.#encoder;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.#open.map((o) => ('release' in o ? o.release() : o.dispose())));
  }
}
