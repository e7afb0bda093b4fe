/**
 * Which Stable Diffusion family a model directory holds (sd15 | sd21 | sdxl), from the strongest evidence
 * available: the pipeline class, an SDXL-only component or U-Net input, the text encoder width (768 SD 1.x,
 * 1024 SD 2.x), the U-Net's cross-attention width, the U-Net's attention projection style, and, for exports
 * without configs, the ONNX U-Net's `encoder_hidden_states` width read from a session by the caller.
 * @module
 */
import { z } from 'zod';
import type { ModelFamily } from '../../../shared/models.js';

/** What decided the family; reported with it so nothing is guessed silently. */
export const FamilySource = z.enum([
  'pipeline-class',
  'text_encoder_2',
  'unet-addition-embed',
  'text-encoder-hidden-size',
  'unet-cross-attention-dim',
  'unet-linear-projection',
  'onnx-unet-inputs',
]);
export type FamilySource = z.infer<typeof FamilySource>;

/** A family and the evidence for it. */
export interface FamilyVerdict {
  readonly family: ModelFamily;
  readonly source: FamilySource;
}

/** Evidence gathered from the directory's JSON files. */
export interface FamilyEvidence {
  readonly pipelineClass: string;
  readonly hasTextEncoder2: boolean;
  readonly textEncoderHiddenSize?: number | undefined;
  readonly unetCrossAttentionDim?: number | undefined;
  readonly unetAdditionEmbedType?: string | null | undefined;
  readonly unetUseLinearProjection?: boolean | undefined;
}

/** SD 1.x conditions on CLIP ViT-L/14 (768 wide), SD 2.x on OpenCLIP ViT-H/14 (1024), SDXL on both (768+1280). */
function familyFromWidth(width: number): ModelFamily | undefined {
  if (width === 768) return 'sd15';
  if (width === 1024) return 'sd21';
  if (width === 2048) return 'sdxl';
  return undefined;
}

/**
 * Decides the family from configs. `undefined` means the configs do not tell SD 1.x from SD 2.x (an export
 * without text encoder or U-Net config): call {@link familyFromUnetInputs} with the ONNX U-Net's inputs.
 */
export function familyFromConfigs(e: FamilyEvidence): FamilyVerdict | undefined {
  if (/XL/.test(e.pipelineClass)) return { family: 'sdxl', source: 'pipeline-class' };
  if (e.hasTextEncoder2) return { family: 'sdxl', source: 'text_encoder_2' };
  if (e.unetAdditionEmbedType === 'text_time') return { family: 'sdxl', source: 'unet-addition-embed' };
  const fromEncoder = e.textEncoderHiddenSize === undefined ? undefined : familyFromWidth(e.textEncoderHiddenSize);
  if (fromEncoder && fromEncoder !== 'sdxl') return { family: fromEncoder, source: 'text-encoder-hidden-size' };
  const fromUnet = e.unetCrossAttentionDim === undefined ? undefined : familyFromWidth(e.unetCrossAttentionDim);
  if (fromUnet) return { family: fromUnet, source: 'unet-cross-attention-dim' };
  // Neither width is a production one (e.g. a tiny test model): SD 2.x's U-Net projects attention in/out with
  // Linear layers, SD 1.x's with 1×1 convolutions; diffusers records which in the U-Net config.
  if (e.unetUseLinearProjection !== undefined) {
    return { family: e.unetUseLinearProjection ? 'sd21' : 'sd15', source: 'unet-linear-projection' };
  }
  return undefined;
}

/**
 * Decides the family from the ONNX U-Net's inputs, for exports that ship no configs.
 * @param inputNames the session's input names (`text_embeds` / `time_ids` exist only in SDXL U-Nets)
 * @param encoderHiddenDim last dim of `encoder_hidden_states` ([batch, sequence, dim]): 768 SD 1.x, 1024 SD 2.x,
 *   2048 SDXL
 * @throws RangeError when the width is none of those
 */
export function familyFromUnetInputs(inputNames: readonly string[], encoderHiddenDim: number): FamilyVerdict {
  if (inputNames.includes('text_embeds') || inputNames.includes('time_ids')) return { family: 'sdxl', source: 'onnx-unet-inputs' };
  const family = familyFromWidth(encoderHiddenDim);
  if (!family) {
    throw new RangeError(`encoder_hidden_states width ${encoderHiddenDim} is not SD 1.x (768), SD 2.x (1024) or SDXL (2048)`);
  }
  return { family, source: 'onnx-unet-inputs' };
}
