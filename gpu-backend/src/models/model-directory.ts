/**
 * Reads a Stable Diffusion model directory in the ONNX export layout of a diffusers repository (Optimum layout):
 * `model_index.json`, `scheduler/scheduler_config.json`, `tokenizer{,_2}/{vocab.json,merges.txt}`,
 * `text_encoder{,_2}/model.onnx`, `unet/model.onnx` (+ external data such as `model.onnx_data` or `weights.pb`),
 * `vae_decoder/model.onnx`, optional `vae_encoder/`.
 * @module
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ModelFamily } from '../../../shared/models.js';
import { loadHfTokenizerFiles } from '../tokenizer/bpe-files.js';
import {
  ComponentEntry,
  ModelIndexJson,
  PredictionType,
  SchedulerConfigJson,
  TextEncoderConfigJson,
  UNetConfigJson,
  VaeConfigJson,
  readJsonConfig,
} from './config-files.js';
import { FamilySource, familyFromConfigs, familyFromUnetInputs } from './family.js';
import { ModelDirectoryError } from './model-directory-error.js';

/**
 * Pipeline classes this backend runs: diffusers, its ONNX pipelines and Optimum's ORT pipelines, SD and SDXL, plus
 * `StableDiffusionOnnxPipeline`, the name diffusers ≤ 0.6 wrote into ONNX exports (e.g. CompVis/stable-diffusion-v1-4
 * at revision `onnx`).
 */
const PIPELINE_CLASS = /^((Onnx|ORT)?StableDiffusion(XL)?(Img2Img|Inpaint)?Pipeline|StableDiffusionOnnxPipeline)$/;

/** VAE latent scaling factor defaults (diffusers' AutoencoderKL configs): SD 1.x/2.x 0.18215, SDXL 0.13025. */
const DEFAULT_VAE_SCALING_FACTOR = { sd15: 0.18215, sd21: 0.18215, sdxl: 0.13025 } as const satisfies Record<ModelFamily, number>;

const OnnxComponent = z.strictObject({
  dir: z.string(),
  /** The ONNX graph file. */
  model: z.string(),
  /** Every other non-JSON file beside it (ONNX external data: `model.onnx_data`, `weights.pb`, …). */
  externalData: z.array(z.string()),
  /** `config.json` beside the graph, when present. */
  config: z.string().optional(),
});
export type OnnxComponent = z.infer<typeof OnnxComponent>;

const TokenizerComponent = z.strictObject({ dir: z.string(), vocab: z.string(), merges: z.string() });
export type TokenizerComponent = z.infer<typeof TokenizerComponent>;

const FileStamp = z.strictObject({ path: z.string(), size: z.number().int().nonnegative(), mtimeMs: z.number() });

/** The typed description {@link readModelDirectory} returns. */
export const ModelDirectory = z.strictObject({
  dir: z.string(),
  pipelineClass: z.string().regex(PIPELINE_CLASS),
  /** `undefined` only when nothing in the JSON files tells SD 1.x from 2.x: see {@link resolveFamilyFromUnet}. */
  family: ModelFamily.optional(),
  familySource: FamilySource.optional(),
  predictionType: PredictionType,
  /** Pixels per latent cell: 2^(len(vae block_out_channels) − 1), 8 when no VAE config says otherwise. */
  vaeScaleFactor: z.number().int().positive(),
  /** Latents are multiplied by this after encoding and divided by it before decoding. */
  vaeScalingFactor: z.number().positive(),
  vaeScalingFactorSource: z.enum(['config', 'family-default']),
  components: z.strictObject({
    scheduler: z.strictObject({ dir: z.string(), config: z.string() }),
    unet: OnnxComponent,
    textEncoder: OnnxComponent.optional(),
    textEncoder2: OnnxComponent.optional(),
    tokenizer: TokenizerComponent.optional(),
    tokenizer2: TokenizerComponent.optional(),
    vaeDecoder: OnnxComponent.optional(),
    vaeEncoder: OnnxComponent.optional(),
  }),
  /** Size and mtime of the U-Net graph and its external data, and a key over them (invalidates derived graphs). */
  unetFingerprint: z.strictObject({ files: z.array(FileStamp), key: z.string().regex(/^[0-9a-f]{16}$/) }),
});
export type ModelDirectory = z.infer<typeof ModelDirectory>;

type Components = ModelDirectory['components'];
type OptionalOnnx = 'textEncoder' | 'textEncoder2' | 'vaeDecoder' | 'vaeEncoder';

const ONNX_FOLDERS = {
  textEncoder: 'text_encoder',
  textEncoder2: 'text_encoder_2',
  vaeDecoder: 'vae_decoder',
  vaeEncoder: 'vae_encoder',
} as const;
const TOKENIZER_FOLDERS = { tokenizer: 'tokenizer', tokenizer2: 'tokenizer_2' } as const;

async function fileSize(file: string): Promise<number | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** How model_index.json lists a component: listed with a class, listed as `[null, null]`, or not at all. */
function listing(index: ModelIndexJson, key: string, indexFile: string): 'listed' | 'null' | 'unlisted' {
  if (!(key in index)) return 'unlisted';
  const parsed = ComponentEntry.safeParse(index[key]);
  if (!parsed.success) throw new ModelDirectoryError(indexFile, `"${key}" must be [library, class] or [null, null]`);
  return parsed.data[0] === null ? 'null' : 'listed';
}

async function readOnnxComponent(dir: string, folder: string): Promise<OnnxComponent> {
  const componentDir = path.join(dir, folder);
  const model = path.join(componentDir, 'model.onnx');
  const size = await fileSize(model);
  if (size === undefined) throw new ModelDirectoryError(model, 'missing (the component folder has no ONNX graph)');
  if (size === 0) throw new ModelDirectoryError(model, 'empty file');
  const names = (await readdir(componentDir)).sort();
  const externalData = names
    .filter((n) => n !== 'model.onnx' && !n.endsWith('.json') && !n.endsWith('.part') && !n.startsWith('.'))
    .map((n) => path.join(componentDir, n));
  const config = names.includes('config.json') ? path.join(componentDir, 'config.json') : undefined;
  return { dir: componentDir, model, externalData, ...(config ? { config } : {}) };
}

async function readTokenizerComponent(dir: string, folder: string): Promise<TokenizerComponent> {
  const componentDir = path.join(dir, folder);
  try {
    await loadHfTokenizerFiles(componentDir);
  } catch (cause) {
    const file = (cause as { file?: string }).file ?? componentDir;
    throw new ModelDirectoryError(file, `tokenizer: ${(cause as Error).message}`, { cause });
  }
  return { dir: componentDir, vocab: path.join(componentDir, 'vocab.json'), merges: path.join(componentDir, 'merges.txt') };
}

/**
 * Reads, checks and describes a model directory. Components listed as `[null, null]` in model_index.json are
 * absent; components model_index.json lists with a class must be on disk; unlisted ones count when their folder
 * exists (and must then be complete). The scheduler config and the U-Net graph are always required.
 * @throws ModelDirectoryError naming the missing or malformed file
 */
export async function readModelDirectory(dir: string): Promise<ModelDirectory> {
  const root = path.resolve(dir);
  const indexFile = path.join(root, 'model_index.json');
  const index = await readJsonConfig(indexFile, ModelIndexJson);
  if (!PIPELINE_CLASS.test(index._class_name)) {
    throw new ModelDirectoryError(
      indexFile,
      `unsupported pipeline class "${index._class_name}" (expected a Stable Diffusion or SDXL pipeline)`,
    );
  }
  for (const required of ['unet', 'scheduler']) {
    if (listing(index, required, indexFile) === 'null')
      throw new ModelDirectoryError(indexFile, `"${required}" is [null, null] but is required`);
  }

  const schedulerConfig = path.join(root, 'scheduler', 'scheduler_config.json');
  const scheduler = await readJsonConfig(schedulerConfig, SchedulerConfigJson);
  const unet = await readOnnxComponent(root, 'unet');
  const components: Components = { scheduler: { dir: path.dirname(schedulerConfig), config: schedulerConfig }, unet };

  for (const [key, folder] of Object.entries(ONNX_FOLDERS) as [OptionalOnnx, string][]) {
    const listed = listing(index, folder, indexFile);
    if (listed === 'null') continue;
    if (listed === 'listed' || (await isDirectory(path.join(root, folder)))) components[key] = await readOnnxComponent(root, folder);
  }
  for (const [key, folder] of Object.entries(TOKENIZER_FOLDERS) as ['tokenizer' | 'tokenizer2', string][]) {
    const listed = listing(index, folder, indexFile);
    if (listed === 'null') continue;
    if (listed === 'listed' || (await isDirectory(path.join(root, folder)))) components[key] = await readTokenizerComponent(root, folder);
  }

  const unetConfig = await readJsonConfig(path.join(root, 'unet', 'config.json'), UNetConfigJson, true);
  const textEncoderConfig = components.textEncoder?.config
    ? await readJsonConfig(components.textEncoder.config, TextEncoderConfigJson)
    : undefined;
  const crossAttention = unetConfig?.cross_attention_dim;
  const verdict = familyFromConfigs({
    pipelineClass: index._class_name,
    hasTextEncoder2: components.textEncoder2 !== undefined || listing(index, 'text_encoder_2', indexFile) === 'listed',
    textEncoderHiddenSize: textEncoderConfig?.hidden_size,
    unetCrossAttentionDim: Array.isArray(crossAttention) ? crossAttention[0] : crossAttention,
    unetAdditionEmbedType: unetConfig?.addition_embed_type,
    unetUseLinearProjection: unetConfig?.use_linear_projection,
  });

  // The decoder's own config when the export ships one, else the PyTorch VAE's config (diffusers layout).
  const vaeConfig =
    (components.vaeDecoder?.config ? await readJsonConfig(components.vaeDecoder.config, VaeConfigJson) : undefined) ??
    (await readJsonConfig(path.join(root, 'vae', 'config.json'), VaeConfigJson, true));
  const blocks = vaeConfig?.block_out_channels?.length;

  const description: ModelDirectory = {
    dir: root,
    pipelineClass: index._class_name,
    family: verdict?.family,
    familySource: verdict?.source,
    predictionType: scheduler.prediction_type ?? 'epsilon',
    vaeScaleFactor: blocks === undefined ? 8 : 2 ** (blocks - 1),
    vaeScalingFactor: vaeConfig?.scaling_factor ?? DEFAULT_VAE_SCALING_FACTOR[verdict?.family ?? 'sd15'],
    vaeScalingFactorSource: vaeConfig?.scaling_factor === undefined ? 'family-default' : 'config',
    components,
    unetFingerprint: await fingerprint([unet.model, ...unet.externalData]),
  };
  return ModelDirectory.parse(description);
}

/** Size + mtime of each file and a 16-hex-digit key over them (paths relative to nothing: names only). */
export async function fingerprint(files: readonly string[]): Promise<ModelDirectory['unetFingerprint']> {
  const stamps = await Promise.all(
    files.map(async (file) => {
      const s = await stat(file);
      return { path: file, size: s.size, mtimeMs: s.mtimeMs };
    }),
  );
  const key = createHash('sha256')
    .update(JSON.stringify(stamps.map((s) => [path.basename(s.path), s.size, s.mtimeMs])))
    .digest('hex')
    .slice(0, 16);
  return { files: stamps, key };
}

/**
 * Completes a description whose family the JSON files left open, from the ONNX U-Net's inputs as a session
 * reports them (`session.inputNames` and the last dim of `encoder_hidden_states`). A description that already
 * has a family is returned unchanged.
 * @throws RangeError when the width is not 768, 1024 or 2048
 */
export function resolveFamilyFromUnet(desc: ModelDirectory, inputNames: readonly string[], encoderHiddenDim: number): ModelDirectory {
  if (desc.family) return desc;
  const verdict = familyFromUnetInputs(inputNames, encoderHiddenDim);
  const vaeScalingFactor = desc.vaeScalingFactorSource === 'config' ? desc.vaeScalingFactor : DEFAULT_VAE_SCALING_FACTOR[verdict.family];
  return { ...desc, family: verdict.family, familySource: verdict.source, vaeScalingFactor };
}
