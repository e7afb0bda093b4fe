/**
 * U-Net hyper-parameters of the synthetic models, in diffusers' `UNet2DConditionModel` terms, per architecture
 * (SD 1.5, SD 2.1, SDXL) and scale (`full` = the real widths, `tiny` = the same block structure, narrow).
 * @module
 */
import { z } from 'zod';

/** The architectures the builder knows. */
export const SyntheticArch = z.enum(['sd15', 'sd21', 'sdxl']);
export type SyntheticArch = z.infer<typeof SyntheticArch>;

/** `full`: the real widths; `tiny`: the same block structure with narrow widths (tests, demo). */
export const SyntheticScale = z.enum(['tiny', 'full']);
export type SyntheticScale = z.infer<typeof SyntheticScale>;

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

/** SDXL's `text_time` additional conditioning. */
export interface TextTimeEmbedding {
  /** `addition_time_embed_dim`: sinusoid width per time id (256). */
  readonly timeEmbedDim: number;
  /** Width of `text_embeds` (the pooled, projected text embedding of encoder 2: 1280). */
  readonly textEmbedDim: number;
}

/** The U-Net hyper-parameters the graph builder uses. */
export interface UnetSpec {
  readonly blockOutChannels: readonly number[];
  readonly downBlockTypes: readonly DownBlockType[];
  readonly upBlockTypes: readonly UpBlockType[];
  readonly layersPerBlock: number;
  /** Transformer layers per down block (the up path uses them reversed; the mid block the last). */
  readonly transformerLayersPerBlock: readonly number[];
  /** Attention heads per down block (diffusers' `attention_head_dim` for SD 1.x/2.x/SDXL configs). */
  readonly heads: readonly number[];
  readonly crossAttentionDim: number;
  readonly useLinearProjection: boolean;
  readonly upcastAttention: boolean;
  readonly normNumGroups: number;
  readonly textTime?: TextTimeEmbedding;
}

const SD_DOWN: readonly DownBlockType[] = ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'];
const SD_UP: readonly UpBlockType[] = ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'];
const XL_DOWN: readonly DownBlockType[] = ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'];
const XL_UP: readonly UpBlockType[] = ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'];

/** Every (arch, scale) U-Net. */
export const UNET_SPECS: Readonly<Record<SyntheticArch, Readonly<Record<SyntheticScale, UnetSpec>>>> = {
  sd15: {
    full: {
      blockOutChannels: [320, 640, 1280, 1280],
      downBlockTypes: SD_DOWN,
      upBlockTypes: SD_UP,
      layersPerBlock: 2,
      transformerLayersPerBlock: [1, 1, 1, 1],
      heads: [8, 8, 8, 8],
      crossAttentionDim: 768,
      useLinearProjection: false,
      upcastAttention: false,
      normNumGroups: 32,
    },
    tiny: {
      blockOutChannels: [32, 64, 64, 64],
      downBlockTypes: SD_DOWN,
      upBlockTypes: SD_UP,
      layersPerBlock: 2,
      transformerLayersPerBlock: [1, 1, 1, 1],
      heads: [2, 2, 2, 2],
      crossAttentionDim: 32,
      useLinearProjection: false,
      upcastAttention: false,
      normNumGroups: 8,
    },
  },
  sd21: {
    full: {
      blockOutChannels: [320, 640, 1280, 1280],
      downBlockTypes: SD_DOWN,
      upBlockTypes: SD_UP,
      layersPerBlock: 2,
      transformerLayersPerBlock: [1, 1, 1, 1],
      heads: [5, 10, 20, 20],
      crossAttentionDim: 1024,
      useLinearProjection: true,
      upcastAttention: true,
      normNumGroups: 32,
    },
    tiny: {
      blockOutChannels: [32, 64, 64, 64],
      downBlockTypes: SD_DOWN,
      upBlockTypes: SD_UP,
      layersPerBlock: 2,
      transformerLayersPerBlock: [1, 1, 1, 1],
      heads: [2, 4, 4, 4],
      crossAttentionDim: 32,
      useLinearProjection: true,
      upcastAttention: true,
      normNumGroups: 8,
    },
  },
  sdxl: {
    full: {
      blockOutChannels: [320, 640, 1280],
      downBlockTypes: XL_DOWN,
      upBlockTypes: XL_UP,
      layersPerBlock: 2,
      transformerLayersPerBlock: [1, 2, 10],
      heads: [5, 10, 20],
      crossAttentionDim: 2048,
      useLinearProjection: true,
      upcastAttention: false,
      normNumGroups: 32,
      textTime: { timeEmbedDim: 256, textEmbedDim: 1280 },
    },
    tiny: {
      blockOutChannels: [32, 64, 64],
      downBlockTypes: XL_DOWN,
      upBlockTypes: XL_UP,
      layersPerBlock: 2,
      transformerLayersPerBlock: [1, 1, 1],
      heads: [2, 4, 4],
      crossAttentionDim: 32,
      useLinearProjection: true,
      upcastAttention: false,
      normNumGroups: 8,
      textTime: { timeEmbedDim: 8, textEmbedDim: 16 },
    },
  },
};

/** `projection_class_embeddings_input_dim` of a text_time U-Net: 6 time ids · timeEmbedDim + textEmbedDim. */
export function textTimeInputDim(t: TextTimeEmbedding): number {
  return 6 * t.timeEmbedDim + t.textEmbedDim;
}

/**
 * The diffusers `unet/config.json` of a spec (the values diffusers writes for SD 1.5 / SD 2.1 / SDXL-base).
 * SD 1.x/2.x/SDXL configs store the head counts in `attention_head_dim` (diffusers' historical naming).
 */
export function unetConfigJson(spec: UnetSpec, sampleSize: number): Record<string, unknown> {
  const allOnes = spec.transformerLayersPerBlock.every((n) => n === 1);
  const sameHeads = spec.heads.every((h) => h === spec.heads[0]);
  return {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: '0.30.3',
    act_fn: 'silu',
    addition_embed_type: spec.textTime ? 'text_time' : null,
    addition_embed_type_num_heads: 64,
    addition_time_embed_dim: spec.textTime?.timeEmbedDim ?? null,
    attention_head_dim: sameHeads && !spec.textTime ? spec.heads[0] : [...spec.heads],
    block_out_channels: [...spec.blockOutChannels],
    center_input_sample: false,
    class_embed_type: null,
    conv_in_kernel: 3,
    conv_out_kernel: 3,
    cross_attention_dim: spec.crossAttentionDim,
    down_block_types: [...spec.downBlockTypes],
    downsample_padding: 1,
    dual_cross_attention: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    in_channels: 4,
    layers_per_block: spec.layersPerBlock,
    mid_block_scale_factor: 1,
    mid_block_type: 'UNetMidBlock2DCrossAttn',
    norm_eps: 1e-5,
    norm_num_groups: spec.normNumGroups,
    num_attention_heads: null,
    out_channels: 4,
    projection_class_embeddings_input_dim: spec.textTime ? textTimeInputDim(spec.textTime) : null,
    resnet_time_scale_shift: 'default',
    sample_size: sampleSize,
    time_embedding_type: 'positional',
    transformer_layers_per_block: allOnes ? 1 : [...spec.transformerLayersPerBlock],
    up_block_types: [...spec.upBlockTypes],
    upcast_attention: spec.upcastAttention,
    use_linear_projection: spec.useLinearProjection,
  };
}
