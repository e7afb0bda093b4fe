/**
 * Writes a complete synthetic model directory in the diffusers ONNX (Optimum) layout: `model_index.json`,
 * `scheduler/`, `tokenizer/` (+ `tokenizer_2/`), `text_encoder/` (+ `text_encoder_2/`), `unet/`, `vae_decoder/`, `vae_encoder/`,
 * each graph with its `config.json`. Random weights, real architectures and I/O; the same options give
 * byte-identical files.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel } from '../onnx/model-io.js';
import type { ModelProto } from '../onnx/types.js';
import { END_OF_TEXT, writeHfTokenizerFiles } from '../tokenizer/bpe-files.js';
import { TEXT_ENCODER_SPECS, buildClipTextEncoder, textEncoderConfigJson } from './clip-text.js';
import { DEFAULT_IMAGE_SIDE, SCHEDULER_CONFIGS, VAE_SCALING_FACTOR, modelIndexJson } from './pipeline-configs.js';
import { buildUnet } from './unet.js';
import { UNET_SPECS, unetConfigJson, type SyntheticArch, type SyntheticScale } from './unet-config.js';
import { VAE_SPECS, buildVaeDecoder, vaeConfigJson } from './vae-decoder.js';
import { buildVaeEncoder } from './vae-encoder.js';

/** CLIP's merges file, shipped beside the tokenizer (`tokenizer/vocab/`, MIT licence notice there). */
export const DEFAULT_CLIP_BPE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../tokenizer/vocab/bpe_simple_vocab_16e6.txt.gz',
);

/** Graphs whose weights exceed this are written with external data (`model.onnx_data`), as Optimum does. */
export const EXTERNAL_DATA_THRESHOLD = 1 << 30;

/** Options of {@link makeModelDirectory}. */
export interface MakeModelDirectoryOptions {
  readonly arch: SyntheticArch;
  readonly scale: SyntheticScale;
  /** Every graph in float16 (weights, activations, float inputs and outputs) except the U-Net `timestep` (float32) and `input_ids` (int32). */
  readonly fp16?: boolean;
  /** Folder to create (or overwrite files in). */
  readonly out: string;
  /** Weight seed (default 0); each component uses its own derived seed. */
  readonly seed?: number;
  /** CLIP's `bpe_simple_vocab_16e6.txt.gz`; default {@link DEFAULT_CLIP_BPE}. */
  readonly clipBpe?: string;
}

/** What {@link makeModelDirectory} wrote. */
export interface MakeModelDirectoryResult {
  readonly dir: string;
  /** Written files, relative to `dir`, sorted. */
  readonly files: readonly string[];
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function weightBytes(model: ModelProto): number {
  return model.graph.initializer.reduce((s, t) => s + (t.rawData?.byteLength ?? 0), 0);
}

/**
 * Builds and writes the directory.
 * @example await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: 'models/sd15-tiny' })
 */
export async function makeModelDirectory(options: MakeModelDirectoryOptions): Promise<MakeModelDirectoryResult> {
  const { arch, scale } = options;
  const dir = path.resolve(options.out);
  const seed = options.seed ?? 0;
  const float = options.fp16 ? 'float16' : 'float32';
  const files: string[] = [];
  const write = async (rel: string, text: string): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
    files.push(rel);
  };
  const writeGraph = async (folder: string, build: () => ModelProto, config: Record<string, unknown>): Promise<void> => {
    await mkdir(path.join(dir, folder), { recursive: true });
    const model = build();
    if (weightBytes(model) > EXTERNAL_DATA_THRESHOLD) {
      saveModel(model, path.join(dir, folder, 'model.onnx'), { externalDataFile: 'model.onnx_data' });
      files.push(`${folder}/model.onnx_data`);
    } else {
      saveModel(model, path.join(dir, folder, 'model.onnx'));
    }
    files.push(`${folder}/model.onnx`);
    await write(`${folder}/config.json`, json(config));
  };

  await write('model_index.json', json(modelIndexJson(arch)));
  await write('scheduler/scheduler_config.json', json(SCHEDULER_CONFIGS[arch]));

  const bpe = options.clipBpe ?? DEFAULT_CLIP_BPE;
  const encoders = TEXT_ENCODER_SPECS[arch][scale];
  // SD 1.x and SDXL encoder 1 pad with <|endoftext|>; SD 2.x and SDXL encoder 2 with "!" (id 0).
  const pads = arch === 'sd15' ? [END_OF_TEXT] : arch === 'sd21' ? ['!'] : [END_OF_TEXT, '!'];
  for (const [i, spec] of encoders.entries()) {
    const suffix = i === 0 ? '' : `_${i + 1}`;
    await writeHfTokenizerFiles(path.join(dir, `tokenizer${suffix}`), bpe, { padToken: pads[i]! });
    for (const f of ['merges.txt', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json']) files.push(`tokenizer${suffix}/${f}`);
    await writeGraph(
      `text_encoder${suffix}`,
      () => buildClipTextEncoder(spec, { seed: seed + 101 + i, float }),
      textEncoderConfigJson(spec),
    );
  }

  const side = DEFAULT_IMAGE_SIDE[arch];
  const sampleSize = scale === 'tiny' ? 8 : side / 8;
  await writeGraph('unet', () => buildUnet(arch, scale, { seed, float }), unetConfigJson(UNET_SPECS[arch][scale], sampleSize));
  const vae = VAE_SPECS[scale];
  await writeGraph(
    'vae_decoder',
    () => buildVaeDecoder(vae, { seed: seed + 201, float }),
    vaeConfigJson(vae, VAE_SCALING_FACTOR[arch], sampleSize * 8),
  );
  await writeGraph(
    'vae_encoder',
    () => buildVaeEncoder(vae, { seed: seed + 202, float }),
    vaeConfigJson(vae, VAE_SCALING_FACTOR[arch], sampleSize * 8),
  );
  return { dir, files: files.sort() };
}
