/**
 * The parity suite: every case of every fixture directory (see fixture-set.ts) against diffusers' and
 * DeepCache's reference outputs, with the tolerances the fixture READMEs give:
 * - single forwards (U-Net, DeepCache features and shallow outputs, VAE): max|a−b| ≤ 1e-4·max|ref| + 1e-5;
 * - sampling loops (final and per-step latents, float images): max|a−b| ≤ 1e-3·max|ref|;
 * - uint8 images: ±1 per channel value.
 * Image-to-image and inpainting cases (img2img.ts) also check the VAE encoding, the strength schedule, the start
 * latents, the DeepCache step kinds of the case's rule and, for a `counted` case marked `identical_to`, bit
 * equality with its twin; an `informational` case (a DeepCache helper reused across requests) is checked to be a
 * state the per-request plan never reaches.
 * It fails when a manifest case was not run.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { deepcacheStepPlan } from '../../shared/deepcache-schedule.js';
import { compareToReference } from '../support/onnx/compare.js';
import { fixtureTensor } from '../support/fixtures.js';
import { toUint8Hwc } from '../../gpu-backend/src/image/postprocess.js';
import { DEEPCACHE_FEATURE } from '../../gpu-backend/src/pipeline/unet.js';
import type { Tensor } from '../../gpu-backend/src/tensor/tensor.js';
import { FixtureModels } from './fixture-models.js';
import { fixtureDirectories, loadFixture, readJson, SamplingCase, type FixtureDir, type ManifestCase } from './fixture-set.js';
import { runSamplingCase, type SamplingRun } from './sampling.js';
import { ImageCase, ruleKinds, runImageCase, type ImageRun } from './img2img.js';
import { posteriorSample } from '../../gpu-backend/src/pipeline/vae-encoder.js';
import { strengthSchedule } from '../../gpu-backend/src/pipeline/img2img.js';
import { schedulerFromDiffusersCase } from '../../gpu-backend/src/schedulers/index.js';

const SINGLE = { rel: 1e-4, abs: 1e-5 };
const LOOP = { rel: 1e-3, abs: 0 };

/** True when a fixture tensor JSON value holds only finite numbers (the files write NaN as the string "NaN"). */
function isFiniteTensorJson(json: unknown): boolean {
  const data = (json as { data?: unknown[] }).data;
  return Array.isArray(data) && data.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/**
 * The step kind DeepCacheSDHelper gives the U-Net call whose timestep it looked up at `index` of the scheduler's
 * timesteps (its own counter, `helper_step_index`): uniform = every `cache_interval`-th index from the first call's,
 * non-uniform = the indices of its `interval_seq`.
 */
function helperKind(dc: NonNullable<SamplingCase['deepcache']>, index: number, first: number): 'full' | 'shallow' {
  const full = dc.skip_mode === 'uniform' ? (index - first) % dc.cache_interval === 0 : (dc.interval_seq ?? []).includes(index);
  return full ? 'full' : 'shallow';
}

function expectClose(actual: Tensor, ref: Tensor, tol: { rel: number; abs: number }, what: string): void {
  expect(actual.dims, `${what}: dims`).toEqual(ref.dims);
  const c = compareToReference(actual.data, ref.data, tol);
  expect(
    c.ok,
    `${what}: max|diff| ${c.maxDiff.toExponential(3)} exceeds ${c.bound.toExponential(3)} (max|ref| ${c.maxRef.toExponential(3)})`,
  ).toBe(true);
}

function expectUint8Close(actual: Uint8Array, ref: Tensor, what: string): void {
  expect(actual.length, `${what}: length`).toBe(ref.data.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - ref.data[i]!));
  expect(worst, `${what}: max uint8 difference`).toBeLessThanOrEqual(1);
}

function ortInputs(json: Record<string, unknown>, suffix: '' | '_full' | '_shallow', names: readonly string[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of names) {
    const value = json[`${name}${suffix}`] ?? json[name];
    if (value === undefined) continue;
    const t = fixtureTensor(value);
    feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  }
  return feeds;
}

const toTensor = (t: ort.Tensor): Tensor => ({ data: t.data as Float32Array, dims: [...t.dims] });

const fixtures: FixtureDir[] = fixtureDirectories().map(loadFixture);
const ran = new Map<string, Set<string>>();

afterAll(() => {
  const lines: string[] = [];
  const missing: string[] = [];
  for (const fx of fixtures) {
    const done = ran.get(fx.name) ?? new Set();
    lines.push(`${fx.name}: ${done.size}/${fx.manifest.cases.length} cases run`);
    for (const c of fx.manifest.cases) if (!done.has(c.id)) missing.push(`${fx.name}/${c.id} (${c.kind})`);
  }
  console.log(`parity suite\n  ${lines.join('\n  ')}`);
  if (missing.length) throw new Error(`manifest cases not run: ${missing.join(', ')}`);
});

describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
  const models = new FixtureModels(fx);
  const samplingRuns = new Map<string, Promise<SamplingRun>>();
  const mark = (c: ManifestCase) => {
    const set = ran.get(fx.name) ?? new Set<string>();
    set.add(c.id);
    ran.set(fx.name, set);
  };
  const sampling = (c: SamplingCase) => {
    let p = samplingRuns.get(c.id);
    if (!p) samplingRuns.set(c.id, (p = runSamplingCase(models, c)));
    return p;
  };
  const imageRuns = new Map<string, Promise<ImageRun>>();
  const imageRun = (c: ImageCase, kinds: readonly ('full' | 'shallow')[]) => {
    const key = `${c.id}:${kinds.join(',')}`;
    let p = imageRuns.get(key);
    if (!p) imageRuns.set(key, (p = runImageCase(models, c, kinds)));
    return p;
  };
  /** The final latents our code gives for a sampling-like case, whatever its kind. */
  const finalLatentsOf = async (id: unknown): Promise<Tensor> => {
    const source = fx.manifest.cases.find((s) => s.id === id);
    expect(source, `case ${String(id)}`).toBeDefined();
    if (source!.kind === 'sampling') return (await sampling(SamplingCase.parse(source))).finalLatents;
    const ic = ImageCase.parse(source);
    return (await imageRun(ic, ic.step_kinds)).finalLatents;
  };
  const vaeScaling = fx.manifest.models.vae_decoder?.scaling_factor ?? 0.18215;
  afterAll(() => models.dispose());

  for (const c of fx.manifest.cases) {
    switch (c.kind) {
      case 'unet_forward':
        it(`unet_forward ${c.id}: the exported U-Net matches diffusers`, async () => {
          mark(c);
          const json = readJson(fx, c.file!);
          const session = await models.plainSession();
          const out = await session.run(ortInputs(json.inputs as Record<string, unknown>, '', session.inputNames));
          const outputs = json.outputs as Record<string, unknown>;
          expectClose(toTensor(out.out_sample!), fixtureTensor(outputs.out_sample), SINGLE, 'out_sample');
        });
        break;

      case 'deepcache_features':
        it(`deepcache_features: full graph caches and shallow graph reproduces DeepCacheSDHelper on every branch`, async () => {
          mark(c);
          const json = readJson(fx, c.file!);
          const inputs = json.inputs as Record<string, unknown>;
          const branches = json.branches as Array<Record<string, unknown>>;
          expect(branches.length).toBeGreaterThan(0);
          for (const b of branches) {
            const branch = b.cache_branch_id as number;
            const { full, shallow } = await models.split(branch);
            const fullOut = await full.run(ortInputs(inputs, '_full', full.inputNames));
            expectClose(toTensor(fullOut[DEEPCACHE_FEATURE]!), fixtureTensor(b.cached_tensor), SINGLE, `branch ${branch} cached tensor`);
            expectClose(toTensor(fullOut.out_sample!), fixtureTensor(json.full_out_sample), SINGLE, `branch ${branch} full out_sample`);
            const feeds = ortInputs(
              inputs,
              '_shallow',
              shallow.inputNames.filter((n) => n !== DEEPCACHE_FEATURE),
            );
            feeds[DEEPCACHE_FEATURE] = fullOut[DEEPCACHE_FEATURE]!;
            const shallowOut = toTensor((await shallow.run(feeds)).out_sample!);
            expectClose(shallowOut, fixtureTensor(b.shallow_out_sample), SINGLE, `branch ${branch} shallow out_sample`);
            const plain = fixtureTensor(json.plain_out_sample_at_shallow_inputs);
            expect(
              compareToReference(shallowOut.data, plain.data, SINGLE).ok,
              `branch ${branch}: shallow output must differ from the plain forward`,
            ).toBe(false);
          }
        });
        break;

      case 'sampling': {
        const sc = SamplingCase.parse(c);
        it(`sampling ${c.id}: final and per-step latents match diffusers`, async () => {
          mark(c);
          const run = await sampling(sc);
          expect(run.scheduler.timesteps).toEqual(sc.timesteps);
          expect(run.scheduler.initNoiseSigma).toBeCloseTo(sc.init_noise_sigma, 4);
          expect(run.stepKinds).toEqual(sc.step_kinds);
          const ref = readJson(fx, sc.file);
          expect(
            isFiniteTensorJson(ref.final_latents),
            `${fx.name}/${sc.id}: the reference's final latents are not finite, so the fixture cannot check this case`,
          ).toBe(true);
          const perStep = ref.latents_after_each_step as unknown[] | undefined;
          if (perStep) {
            expect(run.perStep).toHaveLength(perStep.length);
            perStep.forEach((r, i) => expectClose(run.perStep[i]!, fixtureTensor(r), LOOP, `latents after step ${i}`));
          }
          expectClose(run.finalLatents, fixtureTensor(ref.final_latents), LOOP, 'final latents');
        });
        if (sc.deepcache) {
          it(`sampling ${c.id}: our DeepCache schedule gives the reference's step kinds`, () => {
            const dc = sc.deepcache!;
            const nonuniform = dc.skip_mode !== 'uniform';
            const settings = nonuniform
              ? {
                  cache_interval: dc.cache_interval,
                  cache_branch_id: dc.cache_branch_id,
                  schedule: 'nonuniform' as const,
                  center: dc.center,
                  power: dc.pow,
                }
              : { cache_interval: dc.cache_interval, cache_branch_id: dc.cache_branch_id, schedule: 'uniform' as const };
            const plan = deepcacheStepPlan(sc.timesteps.length, sc.num_inference_steps, settings);
            const ours = plan.map((f) => (f ? 'full' : 'shallow'));
            if (nonuniform && dc.interval_seq) expect(plan.flatMap((f, i) => (f ? [i] : []))).toEqual(dc.interval_seq);
            // The helper finds a call's step by the FIRST index of its timestep value; PLMS repeats its second
            // timestep, so there the helper's index lags the loop position. Where it agrees with the position, the
            // reference's kind is ours; where it does not, the reference follows the helper's own rule at its index.
            const lookup = sc.helper_step_index ?? sc.timesteps.map((_, i) => i);
            expect(lookup).toHaveLength(sc.step_kinds.length);
            sc.step_kinds.forEach((kind, i) => {
              if (lookup[i] === i) expect(ours[i], `step ${i}`).toBe(kind);
              else expect(kind, `step ${i} (helper index ${lookup[i]})`).toBe(helperKind(dc, lookup[i]!, lookup[0]!));
            });
          });
        }
        break;
      }

      case 'vae_decode':
        it(`vae_decode ${c.id}: the VAE decoder and post-processing match diffusers`, async () => {
          mark(c);
          const json = readJson(fx, c.file!);
          const inputs = json.inputs as Record<string, unknown>;
          const outputs = json.outputs as Record<string, unknown>;
          const scaling = (c.scaling_factor as number | undefined) ?? vaeScaling;
          const vae = await models.vae(scaling);
          const sample = await vae.decode(fixtureTensor(inputs.latents));
          expectClose(sample, fixtureTensor(outputs.sample), SINGLE, 'decoded sample');
          expectUint8Close(toUint8Hwc(sample, 0), fixtureTensor(outputs.image_uint8_nhwc), 'uint8 image');
        });
        break;

      case 'pipeline_image':
        it(`pipeline_image ${c.id}: sampling + VAE + post-processing give diffusers' image`, async () => {
          mark(c);
          const vae = await models.vae(vaeScaling);
          const sample = await vae.decode(await finalLatentsOf(c.same_latents_as));
          const json = readJson(fx, c.file!);
          const refFloat = fixtureTensor(json.image_float_nhwc);
          const [, h, w, ch] = refFloat.dims as [number, number, number, number];
          const floatHwc = new Float32Array(h * w * ch);
          for (let k = 0; k < ch; k++)
            for (let p = 0; p < h * w; p++) floatHwc[p * ch + k] = Math.min(1, Math.max(0, sample.data[k * h * w + p]! / 2 + 0.5));
          expectClose({ data: floatHwc, dims: refFloat.dims }, refFloat, LOOP, 'float image');
          expectUint8Close(toUint8Hwc(sample, 0), fixtureTensor(json.image_uint8_nhwc), 'uint8 image');
        });
        break;

      case 'vae_encode':
        it(`vae_encode ${c.id}: the VAE encoder and the posterior sample match diffusers`, async () => {
          mark(c);
          const json = readJson(fx, c.file!);
          const inputs = json.inputs as Record<string, unknown>;
          const outputs = json.outputs as Record<string, unknown>;
          const encoder = await models.vaeEncoder(c.scaling_factor as number);
          const params = await encoder.parameters(fixtureTensor(inputs.sample));
          expectClose(params, fixtureTensor(outputs.latent_parameters), SINGLE, 'latent_parameters');
          const z = posteriorSample(params, fixtureTensor(inputs.eps));
          expectClose(z, fixtureTensor(outputs.latent_sample), SINGLE, 'latent_sample');
          expectClose(encoder.scale(z), fixtureTensor(outputs.scaled_latents), SINGLE, 'scaled latents');
        });
        break;

      case 'img2img_sampling':
      case 'inpaint_sampling': {
        const ic = ImageCase.parse(c);
        if (ic.informational) {
          it(`${c.kind} ${c.id} (informational): the reference's reused-helper state is one a per-request plan never reaches`, async () => {
            mark(c);
            const { scheduler } = schedulerFromDiffusersCase(ic.scheduler, ic.scheduler_config);
            scheduler.setTimesteps(ic.num_inference_steps);
            const ours = ruleKinds(
              { ...ic, deepcache_step_rule: 'counted' },
              strengthSchedule(scheduler, ic.num_inference_steps, ic.strength),
            );
            expect(ic.fresh_helper_step_kinds, 'the case records the fresh-helper kinds').toBeDefined();
            expect(ours).toEqual(ic.fresh_helper_step_kinds);
            expect(ours, 'a reused helper gives other step kinds').not.toEqual(ic.step_kinds);
          });
          break;
        }
        it(`${c.kind} ${c.id}: encoding, strength schedule, start, per-step and final latents match diffusers`, async () => {
          mark(c);
          const ref = readJson(fx, ic.file);
          // the strength schedule and the step kinds of the case's DeepCache rule
          const probe = schedulerFromDiffusersCase(ic.scheduler, ic.scheduler_config).scheduler;
          probe.setTimesteps(ic.num_inference_steps);
          expect(probe.timesteps).toEqual(ic.all_timesteps);
          expect(probe.order).toBe(ic.scheduler_order);
          const schedule = strengthSchedule(probe, ic.num_inference_steps, ic.strength);
          expect([schedule.initTimestep, schedule.tStart, schedule.beginIndex, schedule.runLength]).toEqual([
            ic.init_timestep,
            ic.t_start,
            ic.begin_index,
            ic.num_unet_calls,
          ]);
          expect(ic.all_timesteps.slice(schedule.beginIndex)).toEqual(ic.timesteps);
          const kinds = ruleKinds(ic, schedule);
          expect(kinds, `step kinds of the ${ic.deepcache_step_rule ?? 'no-DeepCache'} rule`).toEqual(ic.step_kinds);

          const run = await imageRun(ic, kinds);
          expect(run.stepKinds).toEqual(ic.step_kinds);
          expect(run.scheduler.initNoiseSigma).toBeCloseTo(ic.init_noise_sigma, 4);
          // the injected draws are the ones the reference used
          expectClose(run.draws.get('noise')!, fixtureTensor(ref.noise), { rel: 0, abs: 0 }, 'noise');
          if (ref.image_latents === null) expect(run.imageLatents).toBeNull();
          else expectClose(run.imageLatents!, fixtureTensor(ref.image_latents), SINGLE, 'image latents');
          if (ic.kind === 'inpaint_sampling') {
            expectClose(run.mask!, fixtureTensor(ref.mask), { rel: 0, abs: 0 }, 'latent-grid mask');
            expectClose(run.maskedImageLatents!, fixtureTensor(ref.masked_image_latents), SINGLE, 'masked image latents');
          }
          const noiseAt =
            (ref.latent_timestep ? fixtureTensor(ref.latent_timestep).data[0] : (ref.start_add_noise_timestep as number[] | null)?.[0]) ??
            null;
          if (noiseAt !== null) expect(noiseAt).toBe(ic.timesteps[0]);
          expectClose(run.start, fixtureTensor(ref.start_latents), LOOP, 'start latents');
          // per step (before and after the blend) and final
          const blendAt = ref.blend_add_noise_timesteps as number[][] | undefined;
          if (blendAt) expect(blendAt.map((t) => t[0])).toEqual(ic.timesteps.slice(1));
          const before = ref.latents_after_scheduler_step as unknown[] | undefined;
          if (before)
            before.forEach((r, i) => expectClose(run.beforeBlend[i]!, fixtureTensor(r), LOOP, `latents after scheduler step ${i}`));
          const perStep = ref.latents_after_each_step as unknown[] | undefined;
          expect(perStep !== undefined).toBe(ic.has_latents_after_each_step);
          if (perStep) {
            expect(run.perStep).toHaveLength(perStep.length);
            perStep.forEach((r, i) => expectClose(run.perStep[i]!, fixtureTensor(r), LOOP, `latents after step ${i}`));
          }
          expectClose(run.finalLatents, fixtureTensor(ref.final_latents), LOOP, 'final latents');
          // a counted case equal to its helper twin: same reference bits, and the same bits from us
          if (ic.identical_to) {
            const twin = ImageCase.parse(fx.manifest.cases.find((t) => t.id === ic.identical_to));
            expect(fixtureTensor(readJson(fx, twin.file).final_latents).data).toEqual(fixtureTensor(ref.final_latents).data);
            expect(twin.step_kinds).toEqual(ic.step_kinds);
            expect((await imageRun(twin, twin.step_kinds)).finalLatents.data).toEqual(run.finalLatents.data);
          }
        });
        break;
      }

      default:
        it(`${c.id}: unknown case kind ${c.kind}`, () => {
          throw new Error(`the parity suite cannot run case kind "${c.kind}"`);
        });
    }
  }
});
