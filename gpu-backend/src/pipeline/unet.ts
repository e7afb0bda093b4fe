/**
 * The U-Net port of the sampler, backed by onnxruntime sessions: one "full" graph (the original U-Net, plus one
 * extra output per DeepCache branch it serves) and one "shallow" graph per branch.
 * The cached feature stays an onnxruntime tensor between steps: it is never copied into JS memory.
 * @module
 */
import type * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor/tensor.js';
import {
  checkFeeds,
  createSession,
  fromOrtTensor,
  inputInfo,
  selectTensorRows,
  timestepTensor,
  toOrtTensor,
  type ExecutionProvider,
  type InputInfo,
  type ModelSource,
} from './ort-session.js';

import { DEEPCACHE_FEATURE } from '../onnx/deepcache-split.js';

export { DEEPCACHE_FEATURE };

/** Conditioning for one U-Net call, batched like the sample (CFG: uncond rows first, then cond rows). */
export interface UNetConditioning {
  /** [N, sequence, hidden] text encoder hidden states */
  encoderHiddenStates: Tensor;
  /** SDXL: [N, pooled] pooled text embedding of encoder 2 */
  textEmbeds?: Tensor;
  /** SDXL: [N, 6] original size, crop top-left, target size */
  timeIds?: Tensor;
}

/** A DeepCache feature captured on a full step, opaque to callers (it lives in onnxruntime memory). */
export interface CachedFeature {
  readonly branch: number;
  readonly tensor: ort.Tensor;
}

/** The feature of batch rows `rows` only (jobs left the batch between a full step and the next shallow one). */
export function selectFeatureRows(feature: CachedFeature, rows: readonly number[]): CachedFeature {
  return { branch: feature.branch, tensor: selectTensorRows(feature.tensor, rows) };
}

/** What the sampler needs from a U-Net. */
export interface UNetModel {
  /** Branches for which a shallow graph is loaded. */
  readonly branches: readonly number[];
  /** Loads the shallow graph of a branch if it is not loaded yet (no-op otherwise). */
  ensureBranch(branch: number): Promise<void>;
  readonly provider: ExecutionProvider;
  /**
   * Full U-Net evaluation.
   * @param sample [N, C, h, w] scaled model input (C = the U-Net's input channels: 4, or 9 for an inpainting U-Net)
   * @param captureBranch capture that branch's feature for later shallow steps
   * @returns noise prediction [N, 4, h, w] and the captured feature when asked for
   */
  predict(
    sample: Tensor,
    t: number,
    cond: UNetConditioning,
    captureBranch?: number,
  ): Promise<{ noise: Tensor; feature: CachedFeature | null }>;
  /** Shallow evaluation from a feature captured on an earlier full step (same batch rows). */
  predictShallow(sample: Tensor, t: number, cond: UNetConditioning, feature: CachedFeature): Promise<Tensor>;
  dispose(): Promise<void>;
}

export interface OnnxUNetOptions {
  /** The full graph: the plain U-Net, or one with extra feature outputs. */
  full: ModelSource;
  /** Feature output name of the full graph per branch (empty when DeepCache is not served). */
  featureOutputs?: ReadonlyMap<number, string>;
  /** Shallow graph per branch, loaded at creation. */
  shallow?: ReadonlyMap<number, ModelSource>;
  /** Produces the shallow graph of a branch on first use (e.g. splits it and caches it on disk). */
  shallowLoader?: (branch: number) => Promise<ModelSource>;
  providers: readonly ExecutionProvider[];
  intraOpThreads?: number;
}

interface GraphSession {
  session: ort.InferenceSession;
  inputs: Map<string, InputInfo>;
  sampleBatchDim: number | string | undefined;
}

function wrap(session: ort.InferenceSession): GraphSession {
  const inputs = inputInfo(session);
  return { session, inputs, sampleBatchDim: inputs.get('sample')?.shape[0] };
}

/** onnxruntime-backed U-Net with optional DeepCache graphs. Build with `OnnxUNet.create`. */
export class OnnxUNet implements UNetModel {
  readonly provider: ExecutionProvider;
  #full: GraphSession;
  #shallow: Map<number, GraphSession>;
  #pending = new Map<number, Promise<void>>();
  #featureOutputs: ReadonlyMap<number, string>;
  #outputName: string;
  #options: OnnxUNetOptions;

  private constructor(full: GraphSession, shallow: Map<number, GraphSession>, provider: ExecutionProvider, opts: OnnxUNetOptions) {
    this.#full = full;
    this.#shallow = shallow;
    this.#featureOutputs = opts.featureOutputs ?? new Map<number, string>();
    this.provider = provider;
    this.#options = opts;
    this.#outputName = full.session.outputNames.includes('out_sample') ? 'out_sample' : full.session.outputNames[0]!;
  }

  get branches(): readonly number[] {
    return [...this.#shallow.keys()].sort((a, b) => a - b);
  }

  /** Creates the session of a shallow graph with the provider the full graph loaded with. */
  static async #shallowSession(
    branch: number,
    source: ModelSource,
    provider: ExecutionProvider,
    threads: number | undefined,
  ): Promise<GraphSession> {
    const s = await createSession(source, { providers: [provider], intraOpThreads: threads });
    if (!s.session.inputNames.includes(DEEPCACHE_FEATURE)) {
      await s.session.release();
      throw new Error(`shallow graph for branch ${branch} has no ${DEEPCACHE_FEATURE} input`);
    }
    return wrap(s.session);
  }

  async ensureBranch(branch: number): Promise<void> {
    if (this.#shallow.has(branch)) return;
    if (!this.#featureOutputs.has(branch))
      throw new RangeError(
        `DeepCache branch ${branch} is not served by this U-Net (served: ${[...this.#featureOutputs.keys()].join(', ') || 'none'})`,
      );
    const loader = this.#options.shallowLoader;
    if (!loader) throw new RangeError(`no shallow graph for DeepCache branch ${branch}`);
    let p = this.#pending.get(branch);
    if (!p) {
      p = (async () => {
        const g = await OnnxUNet.#shallowSession(branch, await loader(branch), this.provider, this.#options.intraOpThreads);
        this.#shallow.set(branch, g);
      })().finally(() => this.#pending.delete(branch));
      this.#pending.set(branch, p);
    }
    await p;
  }

  /**
   * Wraps sessions that already exist (e.g. shared with other users of the same graphs).
   * @param shallow shallow-graph session per branch, created with the same provider as `full`
   */
  static fromSessions(
    full: ort.InferenceSession,
    shallow: ReadonlyMap<number, ort.InferenceSession>,
    provider: ExecutionProvider,
    featureOutputs: ReadonlyMap<number, string>,
  ): OnnxUNet {
    const graphs = new Map([...shallow].map(([b, s]) => [b, wrap(s)] as const));
    return new OnnxUNet(wrap(full), graphs, provider, { full: new Uint8Array(), featureOutputs, providers: [provider] });
  }

  /** Loads the full graph with the first provider that works, then every shallow graph with that provider. */
  static async create(opts: OnnxUNetOptions): Promise<OnnxUNet> {
    const full = await createSession(opts.full, { providers: opts.providers, intraOpThreads: opts.intraOpThreads });
    const shallow = new Map<number, GraphSession>();
    for (const [branch, source] of opts.shallow ?? []) {
      shallow.set(branch, await OnnxUNet.#shallowSession(branch, source, full.provider, opts.intraOpThreads));
    }
    for (const [branch, name] of opts.featureOutputs ?? []) {
      if (!full.session.outputNames.includes(name)) throw new Error(`full graph has no output ${name} for branch ${branch}`);
    }
    return new OnnxUNet(wrap(full.session), shallow, full.provider, opts);
  }

  #feeds(g: GraphSession, sample: Tensor, t: number, cond: UNetConditioning, what: string): Record<string, ort.Tensor> {
    const candidates: Record<string, Tensor | undefined> = {
      sample,
      encoder_hidden_states: cond.encoderHiddenStates,
      text_embeds: cond.textEmbeds,
      time_ids: cond.timeIds,
    };
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of g.session.inputNames) {
      const info = g.inputs.get(name);
      if (!info || name === DEEPCACHE_FEATURE) continue;
      if (name === 'timestep') {
        feeds[name] = timestepTensor(info, t, sample.dims[0]!, g.sampleBatchDim);
        continue;
      }
      const value = candidates[name];
      if (value) feeds[name] = toOrtTensor(value, info.type);
    }
    checkFeeds(g.session, name2placeholder(feeds, g.session.inputNames.includes(DEEPCACHE_FEATURE)), what);
    return feeds;
  }

  async predict(
    sample: Tensor,
    t: number,
    cond: UNetConditioning,
    captureBranch?: number,
  ): Promise<{ noise: Tensor; feature: CachedFeature | null }> {
    const feeds = this.#feeds(this.#full, sample, t, cond, 'U-Net');
    const fetches = [this.#outputName];
    let featureName: string | undefined;
    if (captureBranch !== undefined) {
      featureName = this.#featureOutputs.get(captureBranch);
      if (!featureName)
        throw new RangeError(
          `DeepCache branch ${captureBranch} is not served by this U-Net (served: ${[...this.#featureOutputs.keys()].join(', ') || 'none'})`,
        );
      fetches.push(featureName);
    }
    const out = await this.#full.session.run(feeds, fetches);
    const noise = fromOrtTensor(out[this.#outputName]!);
    const feature = featureName && captureBranch !== undefined ? { branch: captureBranch, tensor: out[featureName]! } : null;
    return { noise, feature };
  }

  async predictShallow(sample: Tensor, t: number, cond: UNetConditioning, feature: CachedFeature): Promise<Tensor> {
    const g = this.#shallow.get(feature.branch);
    if (!g) throw new RangeError(`no shallow graph for DeepCache branch ${feature.branch}`);
    const feeds = this.#feeds(g, sample, t, cond, `shallow U-Net (branch ${feature.branch})`);
    feeds[DEEPCACHE_FEATURE] = feature.tensor;
    const out = await g.session.run(feeds, [this.#outputName]);
    return fromOrtTensor(out[this.#outputName]!);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.#full.session.release(), ...[...this.#shallow.values()].map((g) => g.session.release())]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Feeds plus a placeholder for the feature input (provided separately), for `checkFeeds`. */
function name2placeholder(feeds: Record<string, unknown>, hasFeature: boolean): Record<string, unknown> {
  return hasFeature ? { ...feeds, [DEEPCACHE_FEATURE]: null } : feeds;
}
