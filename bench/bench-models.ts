/**
 * Synthetic model directories for the benchmarks, built once and cached under `.cache/bench-models/` (gitignored).
 * A directory counts as built only when its `.complete.json` marker exists (written last), so an interrupted
 * build is redone rather than reused.
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeModelDirectory } from '../gpu-backend/src/synthetic/index.js';
import type { SyntheticArch, SyntheticScale } from '../gpu-backend/src/synthetic/index.js';

/** Repository root (this file lives in `bench/`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Default cache folder of benchmark models. */
const BENCH_MODEL_ROOT = path.join(REPO_ROOT, '.cache', 'bench-models');

/** Which synthetic model to build. */
export interface BenchModelSpec {
  readonly arch: SyntheticArch;
  readonly scale: SyntheticScale;
  readonly fp16?: boolean;
  readonly seed?: number;
}

/** A ready model directory and how it was obtained. */
export interface BenchModel {
  readonly dir: string;
  readonly spec: BenchModelSpec;
  /** False when reused from the cache. */
  readonly built: boolean;
  /** Time spent building now (0 when reused). */
  readonly buildMs: number;
}

/** Folder name of a spec, e.g. `sd15-full-fp32-s0`. */
export function benchModelName(spec: BenchModelSpec): string {
  return `${spec.arch}-${spec.scale}-${spec.fp16 ? 'fp16' : 'fp32'}-s${spec.seed ?? 0}`;
}

/**
 * Returns the cached model directory for a spec, building it first when missing or incomplete.
 * @param root cache folder (default {@link BENCH_MODEL_ROOT}; `BENCH_MODEL_ROOT` env var overrides). `BENCH_CLIP_BPE`
 * points at CLIP's merges file when the shared fixtures are not beside the repository (the GPU bundle).
 */
export async function ensureBenchModel(
  spec: BenchModelSpec,
  root: string = process.env.BENCH_MODEL_ROOT ?? BENCH_MODEL_ROOT,
): Promise<BenchModel> {
  const dir = path.join(root, benchModelName(spec));
  const marker = path.join(dir, '.complete.json');
  if (existsSync(marker)) {
    const saved = JSON.parse(await readFile(marker, 'utf8')) as { spec: BenchModelSpec };
    if (JSON.stringify(saved.spec) === JSON.stringify(spec)) return { dir, spec, built: false, buildMs: 0 };
  }
  await rm(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const clipBpe = process.env.BENCH_CLIP_BPE;
  await makeModelDirectory({
    arch: spec.arch,
    scale: spec.scale,
    fp16: spec.fp16 ?? false,
    seed: spec.seed ?? 0,
    out: dir,
    ...(clipBpe ? { clipBpe } : {}),
  });
  const buildMs = performance.now() - t0;
  await writeFile(marker, `${JSON.stringify({ spec, buildMs, builtAt: new Date().toISOString() }, null, 2)}\n`);
  return { dir, spec, built: true, buildMs };
}
