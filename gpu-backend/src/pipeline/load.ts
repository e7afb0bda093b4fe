/**
 * Loads a model directory (the ONNX export layout of a diffusers repository) into a ready pipeline:
 * tokenizers and text encoders, the U-Net with its DeepCache graphs (cached on disk), the VAE decoder (and encoder
 * when the directory has one: image-to-image and inpainting), the scheduler config and seeded noise. The first execution provider that loads the U-Net is used for everything.
 * @module
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { readModelDirectory, resolveFamilyFromUnet, type ModelDirectory } from '../models/model-directory.js';
import { ModelDirectoryError } from '../models/model-directory-error.js';
import { PhiloxNoiseSource } from '../noise/philox-noise.js';
import { parseSchedulerConfigText } from '../schedulers/config.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { loadUnetWithDeepCache } from './load-unet.js';
import type { ExecutionProvider } from './ort-session.js';
import { StableDiffusionPipeline } from './sd-pipeline.js';
import { ClipTextEncoder, PromptEncoder } from './text-encoder.js';
import { VaeDecoder } from './vae.js';
import { VaeEncoder } from './vae-encoder.js';
import { readJsonConfig, UNetConfigJson } from '../models/config-files.js';

export interface LoadPipelineOptions {
  /** Public model id this pipeline serves. */
  modelId: string;
  modelDir: string;
  /** Execution providers to try in order (e.g. cuda, webgpu, cpu). */
  providers: readonly ExecutionProvider[];
  /** DeepCache branches whose shallow graphs are prepared at load; others are prepared on first use. */
  deepcacheBranches?: readonly number[];
  /** Where DeepCache graphs are cached (default `<model>/unet/.deepcache`). */
  deepcacheCacheDir?: string;
  intraOpThreads?: number;
}

async function encoderHiddenDim(unetPath: string): Promise<{ inputNames: string[]; dim: number }> {
  const session = await ort.InferenceSession.create(unetPath, { graphOptimizationLevel: 'disabled' });
  try {
    const meta = session.inputMetadata.find((m) => m.name === 'encoder_hidden_states');
    const dim = meta?.isTensor ? meta.shape[2] : undefined;
    if (typeof dim !== 'number')
      throw new ModelDirectoryError(unetPath, 'cannot tell the model family: encoder_hidden_states has no static width');
    return { inputNames: [...session.inputNames], dim };
  } finally {
    await session.release();
  }
}

async function withFamily(desc: ModelDirectory): Promise<ModelDirectory & { family: NonNullable<ModelDirectory['family']> }> {
  if (desc.family) return desc as ModelDirectory & { family: NonNullable<ModelDirectory['family']> };
  const { inputNames, dim } = await encoderHiddenDim(desc.components.unet.model);
  const resolved = resolveFamilyFromUnet(desc, inputNames, dim);
  return resolved as ModelDirectory & { family: NonNullable<ModelDirectory['family']> };
}

/**
 * Loads a model directory.
 * @throws ModelDirectoryError for a missing or malformed component (e.g. no text encoder or VAE decoder)
 */
export async function loadPipeline(opts: LoadPipelineOptions): Promise<StableDiffusionPipeline> {
  const desc = await withFamily(await readModelDirectory(opts.modelDir));
  const c = desc.components;
  const need = <T>(value: T | undefined, what: string): T => {
    if (!value) throw new ModelDirectoryError(opts.modelDir, `${what} is missing: the pipeline needs it to generate images`);
    return value;
  };
  const textEncoder = need(c.textEncoder, 'text_encoder');
  const tokenizerDir = need(c.tokenizer, 'tokenizer');
  const vaeDecoder = need(c.vaeDecoder, 'vae_decoder');
  const sdxl = desc.family === 'sdxl';
  const textEncoder2 = sdxl ? need(c.textEncoder2, 'text_encoder_2') : undefined;
  const tokenizer2Dir = sdxl ? need(c.tokenizer2, 'tokenizer_2') : undefined;

  const { unet, graphs } = await loadUnetWithDeepCache({
    unetPath: c.unet.model,
    fingerprint: desc.unetFingerprint.key,
    providers: opts.providers,
    ...(opts.deepcacheBranches ? { branches: opts.deepcacheBranches } : {}),
    ...(opts.deepcacheCacheDir ? { cacheDir: opts.deepcacheCacheDir } : {}),
    ...(opts.intraOpThreads ? { intraOpThreads: opts.intraOpThreads } : {}),
  });
  const providers = [unet.provider];
  try {
    const [tok1, tok2] = await Promise.all([
      ClipTokenizer.fromHfFolder(tokenizerDir.dir),
      tokenizer2Dir ? ClipTokenizer.fromHfFolder(tokenizer2Dir.dir) : undefined,
    ]);
    const enc1 = await ClipTextEncoder.create(textEncoder.model, tok1, providers, opts.intraOpThreads);
    const enc2 = textEncoder2 && tok2 ? await ClipTextEncoder.create(textEncoder2.model, tok2, providers, opts.intraOpThreads) : undefined;
    const prompts = new PromptEncoder(desc.family, enc1, enc2);
    const vae = await VaeDecoder.create({
      source: vaeDecoder.model,
      providers,
      scalingFactor: desc.vaeScalingFactor,
      intraOpThreads: opts.intraOpThreads,
    });
    const vaeEncoder = c.vaeEncoder
      ? await VaeEncoder.create({
          source: c.vaeEncoder.model,
          providers,
          scalingFactor: desc.vaeScalingFactor,
          intraOpThreads: opts.intraOpThreads,
        })
      : undefined;
    const unetConfig = await readJsonConfig(`${c.unet.dir}/config.json`, UNetConfigJson, true);
    const schedulerConfig = parseSchedulerConfigText(await readFile(c.scheduler.config, 'utf8'));
    const index = JSON.parse(await readFile(`${desc.dir}/model_index.json`, 'utf8')) as { force_zeros_for_empty_prompt?: boolean };
    return new StableDiffusionPipeline({
      modelId: opts.modelId,
      family: desc.family,
      unet,
      vae,
      ...(vaeEncoder ? { vaeEncoder } : {}),
      unetInChannels: unetConfig?.in_channels ?? 4,
      prompts,
      schedulerConfig,
      vaeScaleFactor: desc.vaeScaleFactor,
      sizeMultiple: desc.vaeScaleFactor * 2 ** (graphs.branchCount / 3 - 1),
      forceZerosForEmptyPrompt: sdxl && (index.force_zeros_for_empty_prompt ?? true),
      noise: (seed) => new PhiloxNoiseSource(seed),
      dispose: async () => {
        await Promise.all([unet.dispose(), prompts.dispose(), vae.dispose(), vaeEncoder?.dispose()]);
      },
    });
  } catch (err) {
    await unet.dispose();
    throw err;
  }
}
