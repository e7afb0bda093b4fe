/**
 * Synthetic Stable Diffusion models: a torch-style ONNX graph builder, the real U-Net / CLIP / VAE architectures
 * with random weights and Optimum's I/O contracts, and a writer of complete model directories.
 * @module
 */
export {
  GraphBuilder,
  floatDataType,
  type FloatKind,
  type GraphBuilderOptions,
  type WeightInit,
  type WeightMode,
} from './graph-builder.js';
export {
  attention,
  conv2d,
  downsample2d,
  gelu,
  gemm,
  groupNorm,
  layerNorm,
  linear,
  quickGelu,
  silu,
  timestepProj,
  upsample2d,
  type AttentionOptions,
  type Conv2dOptions,
  type LinearOptions,
} from './layers.js';
export { fillNormal, hashName } from './random.js';
export { resnetBlock, transformer2d, type ResnetOptions, type Transformer2dOptions } from './unet-blocks.js';
export {
  SyntheticArch,
  SyntheticScale,
  UNET_SPECS,
  textTimeInputDim,
  unetConfigJson,
  type DownBlockType,
  type TextTimeEmbedding,
  type UnetSpec,
  type UpBlockType,
} from './unet-config.js';
export { buildUnet, buildUnetFromSpec, type BuildUnetOptions } from './unet.js';
export {
  CLIP_MAX_LENGTH,
  CLIP_VOCAB_SIZE,
  TEXT_ENCODER_SPECS,
  buildClipTextEncoder,
  textEncoderConfigJson,
  type BuildClipOptions,
  type ClipTextSpec,
} from './clip-text.js';
export { VAE_SPECS, buildVaeDecoder, vaeConfigJson, type BuildVaeOptions, type VaeSpec } from './vae-decoder.js';
export { buildVaeEncoder } from './vae-encoder.js';
export { DEFAULT_IMAGE_SIDE, SCHEDULER_CONFIGS, VAE_SCALING_FACTOR, modelIndexJson } from './pipeline-configs.js';
export {
  DEFAULT_CLIP_BPE,
  EXTERNAL_DATA_THRESHOLD,
  makeModelDirectory,
  type MakeModelDirectoryOptions,
  type MakeModelDirectoryResult,
} from './model-directory.js';
