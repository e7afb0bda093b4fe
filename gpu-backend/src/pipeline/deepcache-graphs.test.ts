import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test/support/fixtures.js';
import { readModelDirectory } from '../models/model-directory.js';
import { makeModelDirectory } from '../synthetic/model-directory.js';
import { loadModel, saveModel } from '../onnx/model-io.js';
import type { ResolvedInput } from '../../../shared/prediction.js';
import { DeepCacheGraphs, featureOutputName } from './deepcache-graphs.js';
import { loadPipeline } from './load.js';

const tinyInput: ResolvedInput = {
  prompt: 'x',
  negative_prompt: '',
  width: 64,
  height: 64,
  num_inference_steps: 4,
  guidance_scale: 5,
  seed: 1,
  scheduler: 'ddim',
  num_outputs: 1,
  output_format: 'png',
  output_quality: 90,
  deepcache: { cache_interval: 2, cache_branch_id: 3, schedule: 'uniform' },
};

describe('DeepCacheGraphs', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'dc-graphs-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes one full graph with a feature output per branch, and shallow graphs on first use', async () => {
    const unetDir = path.join(root, 'a', 'unet');
    await makeModelDirectory({ arch: 'sdxl', scale: 'tiny', out: path.join(root, 'a'), seed: 1 });
    const desc = await readModelDirectory(path.join(root, 'a'));
    const graphs = await DeepCacheGraphs.open({ unetPath: path.join(unetDir, 'model.onnx'), fingerprint: desc.unetFingerprint.key });
    expect(graphs.branchCount).toBe(9);
    const full = await ort.InferenceSession.create(graphs.fullPath);
    expect(full.outputNames).toEqual(['out_sample', ...Array.from({ length: 9 }, (_, b) => featureOutputName(b))]);
    await full.release();
    expect(await readdir(graphs.dir)).not.toContain('shallow-4.onnx');
    const shallow = await ort.InferenceSession.create(await graphs.shallowPath(4));
    expect(shallow.inputNames).toContain('deepcache_feature');
    await shallow.release();
    await expect(graphs.shallowPath(9)).rejects.toThrow('branches 0–8');
  }, 60_000);

  it('starts a new folder and drops the stale one when the U-Net changes', async () => {
    const modelDir = path.join(root, 'b');
    await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: modelDir, seed: 2 });
    const unet = path.join(modelDir, 'unet', 'model.onnx');
    const open = async () => {
      const desc = await readModelDirectory(modelDir);
      return DeepCacheGraphs.open({ unetPath: unet, fingerprint: desc.unetFingerprint.key });
    };
    const first = await open();
    await first.shallowPath(0);
    // Replace the U-Net file with another one (new size and mtime → new fingerprint).
    await copyFile(fixturePath('deepcache-sd15-tiny', 'unet/model.onnx'), unet);
    const later = new Date(Date.now() + 5_000);
    await utimes(unet, later, later);
    const second = await open();
    expect(second.dir).not.toBe(first.dir);
    await expect(stat(first.dir)).rejects.toThrow();
    const full = await ort.InferenceSession.create(second.fullPath);
    // The fixture U-Net's feature outputs now come from its own graph (its channel widths differ from the synthetic one).
    expect(full.outputNames).toContain(featureOutputName(11));
    await full.release();
  }, 60_000);

  it('serves a U-Net with external weights from a cache on another file system, without copying or linking weights', async () => {
    const modelDir = path.join(root, 'ext');
    await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: modelDir, seed: 4 });
    const unetPath = path.join(modelDir, 'unet', 'model.onnx');
    // Re-save the U-Net with its weights in model.onnx_data, as full-size exports are.
    saveModel(loadModel(unetPath, { externalData: 'eager' }), unetPath, { externalDataFile: 'model.onnx_data', sizeThreshold: 256 });
    const desc = await readModelDirectory(modelDir);
    expect(desc.components.unet.externalData.map((f) => path.basename(f))).toEqual(['model.onnx_data']);
    // /dev/shm is a tmpfs: a different file system from the model, where no hard link could reach the weights.
    const cacheRoot = await mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'dc-cache-'));
    try {
      const graphs = await DeepCacheGraphs.open({ unetPath, fingerprint: desc.unetFingerprint.key, cacheRoot });
      const cached = await readdir(graphs.dir);
      expect(cached).not.toContain('model.onnx_data');
      const full = await ort.InferenceSession.create(((await graphs.fullSource()) as { bytes: Uint8Array }).bytes, {
        extra: { session: { model_external_initializers_file_folder_path: graphs.weightsDir } },
      });
      expect(full.outputNames).toContain(featureOutputName(3));
      await full.release();
      const pipeline = await loadPipeline({
        modelId: 'ext',
        modelDir,
        providers: ['cpu'],
        deepcacheBranches: [3],
        deepcacheCacheDir: cacheRoot,
      });
      const [r] = await pipeline.run([{ id: 'x', input: { ...tinyInput }, signal: new AbortController().signal }]);
      await pipeline.dispose();
      expect(r).not.toBeInstanceOf(Error);
      expect((r as { unetShallowSteps: number }).unetShallowSteps).toBe(2);
    } finally {
      await rm(cacheRoot, { recursive: true, force: true });
    }
  }, 120_000);

  it('says which folder to change when the cache root cannot be written', async () => {
    // A cache root below a regular file cannot be created, whoever runs the test.
    const file = path.join(root, 'a-file');
    await copyFile(fixturePath('deepcache-sd15-tiny', 'unet/config.json'), file);
    await expect(
      DeepCacheGraphs.open({
        unetPath: fixturePath('deepcache-sd15-tiny', 'unet/model.onnx'),
        fingerprint: '0123456789abcdef',
        cacheRoot: path.join(file, 'cache'),
      }),
    ).rejects.toThrow(/not writable/);
  });
});
