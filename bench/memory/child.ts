/**
 * Child process of `bench memory`: loads one configuration, runs one image, and prints one JSON line with its
 * resident memory after loading and its peak (VmHWM). Run as
 * `node --import tsx bench/memory/child.ts <modelDir> <mode> <side> <steps> <provider> <threads>`.
 * Modes: `session` (one onnxruntime session of `unet/model.onnx`, one U-Net call), `pipeline` (loadPipeline, no
 * shallow graph, one image without DeepCache), `pipeline+b0` (shallow graph of branch 0, one image I3B0),
 * `pipeline+b0,1,3` (three shallow graphs, one image per branch).
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModelDirectory } from '../../gpu-backend/src/models/model-directory.js';
import { loadPipeline } from '../../gpu-backend/src/pipeline/load.js';
import type { ExecutionProvider } from '../../gpu-backend/src/pipeline/ort-session.js';
import { unetFeeds } from '../../gpu-backend/src/synthetic/unet-feeds.js';
import { benchInput, timeRun } from '../deepcache/loops.js';

/** Resident and peak resident memory of this process, MiB (Linux /proc). */
function memoryMiB(): { rss: number; peak: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function main(): Promise<void> {
  const [modelDir, mode, sideArg, stepsArg, provider, threadsArg] = process.argv.slice(2);
  if (!modelDir || !mode || !sideArg || !stepsArg || !provider || threadsArg === undefined)
    throw new Error('usage: child.ts <modelDir> <mode> <side> <steps> <provider> <threads>');
  const side = Number(sideArg),
    steps = Number(stepsArg),
    threads = Number(threadsArg);
  const base = memoryMiB();
  const t0 = performance.now();
  let loaded = base,
    loadMs = 0;
  if (mode === 'session') {
    const desc = await readModelDirectory(modelDir);
    const cfg = JSON.parse(readFileSync(path.join(modelDir, 'unet/config.json'), 'utf8')) as { cross_attention_dim: number };
    const session = await ort.InferenceSession.create(desc.components.unet.model, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(threads ? { intraOpNumThreads: threads } : {}),
    });
    loadMs = performance.now() - t0;
    loaded = memoryMiB();
    const textEmbeds = session.inputMetadata.find((m) => m.name === 'text_embeds');
    const textEmbedDim = textEmbeds?.isTensor && typeof textEmbeds.shape[1] === 'number' ? textEmbeds.shape[1] : undefined;
    await session.run(
      unetFeeds(
        { batch: 2, height: side / 8, width: side / 8, contextDim: cfg.cross_attention_dim, ...(textEmbedDim ? { textEmbedDim } : {}) },
        500,
        0,
      ),
    );
    await session.release();
  } else {
    const branches = mode === 'pipeline' ? [] : mode === 'pipeline+b0' ? [0] : mode === 'pipeline+b0,1,3' ? [0, 1, 3] : null;
    if (!branches) throw new Error(`unknown mode ${mode}`);
    const pipeline = await loadPipeline({
      modelId: 'bench/memory',
      modelDir,
      providers: [provider as ExecutionProvider],
      deepcacheBranches: branches,
      intraOpThreads: threads || undefined,
    });
    loadMs = performance.now() - t0;
    loaded = memoryMiB();
    const shape = { side, steps, scheduler: 'pndm' as const };
    if (branches.length === 0) await timeRun(pipeline, 'memory', benchInput(shape, false));
    for (const b of branches)
      await timeRun(pipeline, 'memory', benchInput(shape, { cache_interval: 3, cache_branch_id: b, schedule: 'uniform' }));
    await pipeline.dispose();
  }
  const end = memoryMiB();
  console.log(JSON.stringify({ mode, base_rss_mib: base.rss, loaded_rss_mib: loaded.rss, peak_rss_mib: end.peak, load_ms: loadMs }));
}

await main();
