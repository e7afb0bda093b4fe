/**
 * Price of a prediction in integer credits (DESIGN §3 "Pay-per-image"). The edge records the price on every
 * prediction when it is accepted; billing reserves it then and commits per image actually produced.
 *
 * Per image: `ceil(base(family) × pixels / reference_pixels × effective_steps / reference_steps)`, at least 1,
 * where `effective_steps = full + shallow_weight × shallow`. Without DeepCache every step is a full U-Net pass;
 * with DeepCache `full = ceil(steps / cache_interval)` (the non-uniform schedule runs the same number of full
 * steps, only placed differently) and the remaining steps are shallow passes at `shallow_weight` of the cost.
 *
 * | family | base credits | reference size | reference steps |
 * |--------|--------------|----------------|-----------------|
 * | sd15   | 10           | 512 × 512      | 30              |
 * | sd21   | 12           | 768 × 768      | 30              |
 * | sdxl   | 40           | 1024 × 1024    | 30              |
 *
 * Shallow-step weight: 0.25.
 *
 * From an input image (image-to-image, inpainting) the run does only `⌊steps × prompt_strength⌋` steps (the
 * DeepCache split applies to those), plus one VAE encoder pass priced as {@link ENCODER_PASS_STEPS} full steps
 * (the SD VAE encoder at 512² is about as many MACs as one CFG U-Net step).
 * @module
 */
import type { ModelFamily, ModelSpec } from './models.js';
import type { ResolvedInput } from './prediction.js';
import { DEFAULT_PROMPT_STRENGTH, stepsForStrength } from './input-image.js';

/** Price of the VAE encoder pass of a request with an input image, in full U-Net steps. */
export const ENCODER_PASS_STEPS = 1;

/** Per-family price of one image at the reference size and step count. */
export const priceTable = {
  sd15: { base_credits: 10, reference_pixels: 512 * 512, reference_steps: 30 },
  sd21: { base_credits: 12, reference_pixels: 768 * 768, reference_steps: 30 },
  sdxl: { base_credits: 40, reference_pixels: 1024 * 1024, reference_steps: 30 },
} as const satisfies Record<ModelFamily, { base_credits: number; reference_pixels: number; reference_steps: number }>;

/** Cost of a shallow (cached) DeepCache step relative to a full U-Net step. */
export const SHALLOW_STEP_WEIGHT = 0.25;

/** Full and shallow U-Net passes a request will run. */
export function unetPasses(input: Pick<ResolvedInput, 'num_inference_steps' | 'deepcache' | 'image' | 'prompt_strength'>): { full: number; shallow: number } {
  const steps = input.image === undefined ? input.num_inference_steps : stepsForStrength(input.num_inference_steps, input.prompt_strength ?? DEFAULT_PROMPT_STRENGTH);
  if (input.deepcache === false) return { full: steps, shallow: 0 };
  const full = Math.ceil(steps / input.deepcache.cache_interval);
  return { full, shallow: steps - full };
}

/** Credits for one image of this request. */
export function pricePerImage(model: Pick<ModelSpec, 'family'>, input: ResolvedInput): number {
  const row = priceTable[model.family];
  const { full, shallow } = unetPasses(input);
  const effectiveSteps = full + SHALLOW_STEP_WEIGHT * shallow + (input.image === undefined ? 0 : ENCODER_PASS_STEPS);
  const raw = row.base_credits * ((input.width * input.height) / row.reference_pixels) * (effectiveSteps / row.reference_steps);
  // Round away float noise before ceil so exact table points price exactly.
  return Math.max(1, Math.ceil(Math.round(raw * 1e6) / 1e6));
}

/** Credits for the whole request (every requested image). */
export function priceFor(model: Pick<ModelSpec, 'family'>, input: ResolvedInput): { credits: number; per_image: number } {
  const perImage = pricePerImage(model, input);
  return { credits: perImage * input.num_outputs, per_image: perImage };
}
