/**
 * The pipeline the service tests run: the real `loadPipeline` on the CPU provider over a tiny synthetic
 * SD 1.5-architecture model directory (random weights; built in about a second).
 * @module
 */
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { loadPipeline } from '../../../gpu-backend/src/pipeline/load.js';
import { makeModelDirectory } from '../../../gpu-backend/src/synthetic/model-directory.js';
import type { LoadPipeline } from '../../../gpu-backend/src/server/pipeline-port.js';

export const loadPipelineUnderTest: LoadPipeline = loadPipeline;

/** Writes a tiny synthetic SD 1.5 model directory at `out` and returns it. */
export async function makeTinyModelDir(out: string): Promise<string> {
  await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out, seed: 7 });
  return out;
}

/** Breaks a model directory the way a bad copy does: the U-Net graph is cut short. */
export async function breakModelDir(dir: string): Promise<void> {
  await truncate(path.join(dir, 'unet', 'model.onnx'), 100);
}
