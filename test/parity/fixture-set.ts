/**
 * The fixture directories the parity suite runs over and their manifests. `SD_FIXTURES` lists directories
 * separated by `:` (relative paths resolve from the repository root); by default every `deepcache-*` directory
 * under `test/fixtures` (see its README).
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { fixturesRoot, repoRoot } from '../support/fixtures.js';
import { SamplingCase as SchedulerSamplingCase } from '../support/schedulers/sampling-fixture.js';

export const DeepCacheCase = z.looseObject({
  cache_interval: z.number().int(),
  cache_branch_id: z.number().int(),
  skip_mode: z.string(),
  center: z.number().int().optional(),
  pow: z.number().optional(),
  num_slow_step: z.number().int().optional(),
  interval_seq: z.array(z.number().int()).optional(),
});

/** A sampling case as the parity suite reads it: the schedulers' schema plus the DeepCache details. */
export const SamplingCase = SchedulerSamplingCase.extend({
  eta: z.number().optional(),
  height: z.number().int(),
  width: z.number().int(),
  deepcache: DeepCacheCase.nullable(),
  helper_step_index: z.array(z.number().int()).optional(),
});
export type SamplingCase = z.infer<typeof SamplingCase>;

const BaseCase = z.looseObject({ id: z.string(), kind: z.string(), file: z.string().optional() });
export type ManifestCase = z.infer<typeof BaseCase>;

export const Manifest = z.looseObject({
  fixture: z.string().optional(),
  models: z.looseObject({
    unet: z.looseObject({ path: z.string() }),
    vae_decoder: z.looseObject({ path: z.string(), scaling_factor: z.number().optional() }).nullable().optional(),
  }),
  cases: z.array(BaseCase),
});
export type Manifest = z.infer<typeof Manifest>;

export interface FixtureDir {
  name: string;
  dir: string;
  manifest: Manifest;
}

/** Directories from `SD_FIXTURES`, or every `deepcache-*` fixture. */
export function fixtureDirectories(env: string | undefined = process.env.SD_FIXTURES): string[] {
  if (env?.trim()) {
    return env
      .split(':')
      .filter(Boolean)
      .map((d) => path.resolve(repoRoot, d));
  }
  return readdirSync(fixturesRoot)
    .filter((d) => d.startsWith('deepcache-'))
    .sort()
    .map((d) => path.join(fixturesRoot, d));
}

/** Loads a fixture directory's manifest (zod-checked). */
export function loadFixture(dir: string): FixtureDir {
  const file = path.join(dir, 'reference/manifest.json');
  if (!existsSync(file)) throw new Error(`${dir} has no reference/manifest.json`);
  const manifest = Manifest.parse(JSON.parse(readFileSync(file, 'utf8')));
  return { name: path.basename(dir), dir, manifest };
}

/** Reads a JSON file of a fixture directory. */
export function readJson(fixture: FixtureDir, relative: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(fixture.dir, relative), 'utf8')) as Record<string, unknown>;
}
