/**
 * The sampling side of the diffusers reference fixtures (`test/fixtures/deepcache-*`): the manifest's sampling
 * cases, their result files and the shared sampling inputs (tensors in the fixtures' JSON format, which
 * `../fixtures.ts` reads).
 * @module
 */
import { z } from 'zod';
import { FixtureTensorJson as TensorJson, readFixtureJson } from '../fixtures.js';

/** A `kind: "sampling"` entry of `reference/manifest.json`. */
export const SamplingCase = z.object({
  id: z.string(),
  kind: z.literal('sampling'),
  file: z.string(),
  inputs: z.string(),
  scheduler: z.string(),
  scheduler_config: z.record(z.string(), z.unknown()),
  num_inference_steps: z.number().int().positive(),
  guidance_scale: z.number(),
  init_noise_sigma: z.number(),
  num_unet_calls: z.number().int().positive().optional(),
  deepcache: z.unknown().nullable(),
  timesteps: z.array(z.number()),
  step_kinds: z.array(z.enum(['full', 'shallow'])),
});
export type SamplingCase = z.infer<typeof SamplingCase>;

const Manifest = z.object({ cases: z.array(z.looseObject({ kind: z.string() })) });

/** The sampling cases of a fixture's manifest. */
export function samplingCases(dir: string): SamplingCase[] {
  const manifest = readFixtureJson(dir, 'reference/manifest.json', Manifest);
  return manifest.cases.filter((c) => c.kind === 'sampling').map((c) => SamplingCase.parse(c));
}

/** A `reference/sampling/*.json` result file. */
export const SamplingResult = z.object({
  timesteps: z.array(z.number()),
  step_kinds: z.array(z.enum(['full', 'shallow'])),
  final_latents: TensorJson,
  latents_after_each_step: z.array(TensorJson).optional(),
});
export type SamplingResult = z.infer<typeof SamplingResult>;

/** `reference/sampling_inputs.json` (SDXL adds pooled embeddings and time ids). */
export const SamplingInputs = z.object({
  initial_latent: TensorJson,
  prompt_embeds: TensorJson,
  negative_prompt_embeds: TensorJson,
  pooled_prompt_embeds: TensorJson.optional(),
  negative_pooled_prompt_embeds: TensorJson.optional(),
  add_time_ids: TensorJson.optional(),
});
export type SamplingInputs = z.infer<typeof SamplingInputs>;
