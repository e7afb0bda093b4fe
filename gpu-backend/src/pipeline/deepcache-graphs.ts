/**
 * DeepCache graphs of a model's U-Net, cached on disk: one full graph serving every branch (the
 * original plus one `deepcache_feature_<b>` output per branch, so one session holds the weights once) and one
 * shallow graph per branch, split on first use. Files live in `<cache root>/<U-Net fingerprint>/`; a changed
 * U-Net file gets a new folder and the stale ones are removed.
 *
 * The cached graphs keep the U-Net's external-data references (`model.onnx_data`, …) as they are: sessions are
 * created from their bytes with the U-Net's own folder as the external-data folder, so weights are never copied
 * or linked, and the cache may sit on another file system (e.g. a writable volume beside a read-only model store).
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { splitUnetForDeepCache } from '../onnx/deepcache-split.js';
import { loadModel, serializeModel } from '../onnx/model-io.js';
import { promoteToOutput } from '../onnx/promote-output.js';
import type { ModelProto } from '../onnx/types.js';
import type { ModelSource } from './ort-session.js';

export interface DeepCacheGraphsOptions {
  /** The U-Net graph (`unet/model.onnx`); its external weight files stay beside it. */
  unetPath: string;
  /** Changes whenever the U-Net or its weights change (readModelDirectory's `unetFingerprint.key`). */
  fingerprint: string;
  /** Folder for cached graphs; default `<U-Net folder>/.deepcache`. Must be writable. */
  cacheRoot?: string;
}

/** Output name of branch b's feature in the shared full graph. */
export const featureOutputName = (branch: number): string => `deepcache_feature_${branch}`;

const MANIFEST = 'manifest.json';

interface Manifest {
  fingerprint: string;
  branchCount: number;
}

async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A derived graph's bytes; external weights still resolve in the U-Net's folder. */
const graphBytes = (model: ModelProto): Uint8Array => serializeModel(model, { allowExternalReferences: true });

/** The cached DeepCache graphs of one U-Net. Build with `DeepCacheGraphs.open`. */
export class DeepCacheGraphs {
  readonly dir: string;
  readonly branchCount: number;
  readonly fullPath: string;
  /** Folder the cached graphs' external-data references resolve in (the U-Net's). */
  readonly weightsDir: string;
  #options: DeepCacheGraphsOptions;
  #model: ModelProto | undefined;
  #pending = new Map<number, Promise<string>>();

  private constructor(dir: string, branchCount: number, opts: DeepCacheGraphsOptions, model?: ModelProto) {
    this.dir = dir;
    this.branchCount = branchCount;
    this.fullPath = path.join(dir, 'full.onnx');
    this.weightsDir = path.dirname(path.resolve(opts.unetPath));
    this.#options = opts;
    this.#model = model;
  }

  /**
   * Opens (and on first use writes) the cache folder and the shared full graph.
   * @throws Error when the cache folder cannot be written (set a writable `cacheRoot`)
   */
  static async open(opts: DeepCacheGraphsOptions): Promise<DeepCacheGraphs> {
    const root = opts.cacheRoot ?? path.join(path.dirname(opts.unetPath), '.deepcache');
    const dir = path.join(root, opts.fingerprint);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new Error(
        `DeepCache graph cache ${root} is not writable (${(err as Error).message}); point the cache root at a writable folder`,
      );
    }
    for (const stale of await readdir(root)) {
      if (stale !== opts.fingerprint && /^[0-9a-f]{16}$/.test(stale)) await rm(path.join(root, stale), { recursive: true, force: true });
    }
    const manifestPath = path.join(dir, MANIFEST);
    if (existsSync(manifestPath) && existsSync(path.join(dir, 'full.onnx'))) {
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
      if (manifest.fingerprint === opts.fingerprint) return new DeepCacheGraphs(dir, manifest.branchCount, opts);
    }
    const model = loadModel(opts.unetPath, { externalData: 'lazy' });
    const { full, branchCount } = fullGraphForAllBranches(model);
    const graphs = new DeepCacheGraphs(dir, branchCount, opts, model);
    await writeAtomically(graphs.fullPath, graphBytes(full));
    await writeAtomically(manifestPath, JSON.stringify({ fingerprint: opts.fingerprint, branchCount } satisfies Manifest));
    return graphs;
  }

  /** Feature output name per branch in the full graph. */
  get featureOutputs(): Map<number, string> {
    return new Map(Array.from({ length: this.branchCount }, (_, b) => [b, featureOutputName(b)] as const));
  }

  /** The full graph as a session source. */
  async fullSource(): Promise<ModelSource> {
    return { bytes: await readFile(this.fullPath), externalDataDir: this.weightsDir };
  }

  /** Branch b's shallow graph as a session source, split and cached on first use. */
  async shallowSource(branch: number): Promise<ModelSource> {
    return { bytes: await readFile(await this.shallowPath(branch)), externalDataDir: this.weightsDir };
  }

  /**
   * Path of branch b's cached shallow graph, splitting and writing it on first use. The file's external-data
   * references resolve in {@link weightsDir}: load it through {@link shallowSource}.
   * @throws RangeError outside 0 … branchCount − 1
   */
  shallowPath(branch: number): Promise<string> {
    if (!Number.isInteger(branch) || branch < 0 || branch >= this.branchCount) {
      return Promise.reject(new RangeError(`cache branch ${branch} is out of range: this U-Net has branches 0–${this.branchCount - 1}`));
    }
    let p = this.#pending.get(branch);
    if (!p) {
      const file = path.join(this.dir, `shallow-${branch}.onnx`);
      p = (async () => {
        if (existsSync(file)) return file;
        this.#model ??= loadModel(this.#options.unetPath, { externalData: 'lazy' });
        const { shallow } = splitUnetForDeepCache(this.#model, branch);
        await writeAtomically(file, graphBytes(shallow));
        return file;
      })();
      this.#pending.set(branch, p);
      p.catch(() => this.#pending.delete(branch));
    }
    return p;
  }
}

/**
 * The U-Net plus one feature output per DeepCache branch (`deepcache_feature_<b>`), with types from each branch's split.
 * @returns the graph and the number of branches
 */
function fullGraphForAllBranches(unet: ModelProto): { full: ModelProto; branchCount: number } {
  const first = splitUnetForDeepCache(unet, 0);
  const branchCount = first.info.branchCount;
  let full = unet;
  for (let b = 0; b < branchCount; b++) {
    const split = b === 0 ? first : splitUnetForDeepCache(unet, b);
    const type = split.full.graph.output[split.full.graph.output.length - 1]!.type!.tensorType!;
    const shape = (type.shape?.dim ?? []).map((d) => d.dimValue ?? d.dimParam ?? null);
    full = promoteToOutput(full, split.info.cachedTensor, { outputName: featureOutputName(b), type: { elemType: type.elemType!, shape } });
  }
  return { full, branchCount };
}
