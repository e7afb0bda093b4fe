/**
 * Reading the diffusers reference fixtures (`test/fixtures/deepcache-*`) in place: the manifest's sampling
 * cases and the tensor JSON files (`{dtype, shape, data}`, row-major; float32 values round-trip exactly).
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Tensor } from '../../../gpu-backend/src/tensor/tensor.js';
import { FixtureTensorJson, fixtureTensor, fixturesRoot } from '../fixtures.js';

export { repoRoot } from '../fixtures.js';

/** Absolute path of a fixture directory under `test/fixtures`. */
export function fixtureDir(name: string): string {
  return path.join(fixturesRoot, name);
}

/** A tensor as the fixtures store it. */
export const TensorJson = FixtureTensorJson;
export type TensorJson = FixtureTensorJson;

/** Converts a fixture tensor to a float32 `Tensor`. */
export function toTensor(t: TensorJson): Tensor {
  return fixtureTensor(t);
}

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
  const manifest = Manifest.parse(JSON.parse(readFileSync(path.join(dir, 'reference/manifest.json'), 'utf8')));
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

/** Reads and validates a JSON file relative to a fixture directory. */
export function readFixtureJson<S extends z.ZodType>(dir: string, rel: string, schema: S): z.infer<S> {
  return schema.parse(JSON.parse(readFileSync(path.join(dir, rel), 'utf8')));
}

export { maxAbs, maxAbsDiff } from '../onnx/compare.js';
