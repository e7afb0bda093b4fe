/**
 * Which files of a diffusers ONNX repository a pull downloads, and where a pull puts them.
 * @module
 */
import path from 'node:path';

/** Options for {@link selectPullFiles}. */
export interface PullSelection {
  /** Also fetch `vae_encoder/` (img2img / inpainting need it; text-to-image does not). */
  readonly includeVaeEncoder?: boolean;
}

/** Folders whose files the ONNX text-to-image pipeline reads. */
const PIPELINE_FOLDERS = ['scheduler', 'tokenizer', 'tokenizer_2', 'text_encoder', 'text_encoder_2', 'unet', 'vae_decoder'];

/** Weights for other runtimes (PyTorch, Flax, TensorFlow, original checkpoints): never needed by the ONNX pipeline. */
const OTHER_RUNTIME_WEIGHTS = /\.(safetensors|bin|ckpt|pt|pth|msgpack|h5)$/i;

/**
 * Keeps the repository paths the ONNX pipeline needs: `model_index.json`; every file under `scheduler/`,
 * `tokenizer{,_2}/`, `text_encoder{,_2}/`, `unet/` (graph, external data, config) and `vae_decoder/` (and `vae_encoder/`
 * when asked) except PyTorch/Flax/TF weights; and `vae/config.json` (the VAE scaling factor of diffusers-layout
 * repos). Everything else (safety checker, feature extractor, README, original checkpoints) is skipped.
 * @returns the kept paths, sorted
 */
export function selectPullFiles(paths: readonly string[], selection: PullSelection = {}): string[] {
  const folders = new Set(selection.includeVaeEncoder ? [...PIPELINE_FOLDERS, 'vae_encoder'] : PIPELINE_FOLDERS);
  return paths
    .filter((p) => {
      if (p === 'model_index.json' || p === 'vae/config.json') return true;
      const slash = p.indexOf('/');
      return slash > 0 && folders.has(p.slice(0, slash)) && !OTHER_RUNTIME_WEIGHTS.test(p);
    })
    .sort();
}

/** `owner/name`, as the Hub spells model repositories. */
const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/**
 * The folder a pull writes: `<cacheDir>/<owner>--<name>/<revision>/` (a `/` inside the revision, as in
 * `refs/pr/3`, becomes `--`).
 * @throws RangeError for a repository id that is not `owner/name` or an unusable revision
 */
export function pullDestination(cacheDir: string, repo: string, revision: string): string {
  if (!REPO_ID.test(repo)) throw new RangeError(`repository must be "owner/name", got ${JSON.stringify(repo)}`);
  const folder = revision.split('/').join('--');
  if (!/^[\w.-]+$/.test(folder) || folder === '.' || folder === '..') {
    throw new RangeError(`revision ${JSON.stringify(revision)} cannot name a folder`);
  }
  return path.join(cacheDir, repo.replace('/', '--'), folder);
}

/**
 * Resolves a repository path inside `dest`, refusing anything that would leave it (absolute paths, `..`).
 * @throws RangeError for an unsafe path
 */
export function safeJoin(dest: string, repoPath: string): string {
  const parts = repoPath.split('/');
  if (repoPath.startsWith('/') || repoPath.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new RangeError(`unsafe repository path ${JSON.stringify(repoPath)}`);
  }
  return path.join(dest, ...parts);
}
