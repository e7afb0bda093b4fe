/**
 * Image-to-image and inpainting cases of a fixture (`img2img_sampling`, `inpaint_sampling`): the manifest schema,
 * the DeepCache step kinds each case's rule gives, and a runner that drives the backend's own code
 * (`VaeEncoder`, `strengthSchedule`, `sampleFromImage`) with the reference's random tensors injected: every case
 * lists its draws (`random_draws`: role, stream, stream_index) and `random_streams.json` beside the inputs file
 * holds them.
 * @module
 */
import path from 'node:path';
import { z } from 'zod';
import { deepcacheStepPlan } from '../../shared/deepcache-schedule.js';
import type { DeepCacheSettings } from '../../shared/deepcache.js';
import { fixtureTensor } from '../support/fixtures.js';
import { FeatureCache, type StepKind } from '../../gpu-backend/src/pipeline/feature-cache.js';
import {
  imageRunCache,
  imageToTensor,
  latentMask,
  maskedImage,
  maskToTensor,
  sampleFromImage,
  strengthSchedule,
  type StrengthSchedule,
} from '../../gpu-backend/src/pipeline/img2img.js';
import { schedulerFromDiffusersCase } from '../../gpu-backend/src/schedulers/index.js';
import type { Scheduler } from '../../gpu-backend/src/schedulers/scheduler.js';
import type { Tensor } from '../../gpu-backend/src/tensor/tensor.js';
import type { FixtureModels } from './fixture-models.js';
import { DeepCacheCase, readJson } from './fixture-set.js';
import { samplingConditioning } from './sampling.js';

const RandomDraw = z.looseObject({ role: z.string(), stream: z.string(), stream_index: z.number().int().nonnegative() });
const Kind = z.enum(['full', 'shallow']);

/** An `img2img_sampling` or `inpaint_sampling` manifest entry (the fields the suite reads). */
export const ImageCase = z.looseObject({
  id: z.string(),
  kind: z.enum(['img2img_sampling', 'inpaint_sampling']),
  file: z.string(),
  inputs: z.string(),
  unet: z.string(),
  unet_in_channels: z.number().int().optional(),
  latent_blending: z.boolean().optional(),
  strength: z.number(),
  num_inference_steps: z.number().int().positive(),
  guidance_scale: z.number(),
  eta: z.number().optional(),
  height: z.number().int(),
  width: z.number().int(),
  scheduler: z.string(),
  scheduler_config: z.record(z.string(), z.unknown()),
  scheduler_order: z.number().int(),
  all_timesteps: z.array(z.number()),
  init_timestep: z.number().int(),
  t_start: z.number().int(),
  begin_index: z.number().int(),
  init_noise_sigma: z.number(),
  timesteps: z.array(z.number()),
  num_unet_calls: z.number().int(),
  deepcache: DeepCacheCase.nullable(),
  deepcache_step_rule: z.enum(['helper', 'counted']).nullable(),
  step_kinds: z.array(Kind),
  helper_step_index: z.array(z.number().int().nullable()),
  random_draws: z.array(RandomDraw),
  has_latents_after_each_step: z.boolean(),
  identical_to: z.string().nullable(),
  informational: z.boolean().optional(),
  fresh_helper_step_kinds: z.array(Kind).optional(),
});
export type ImageCase = z.infer<typeof ImageCase>;

/** The case's DeepCache settings as a request would give them (uniform only in these fixtures). */
export function caseSettings(c: ImageCase): DeepCacheSettings | false {
  if (!c.deepcache) return false;
  if (c.deepcache.skip_mode !== 'uniform')
    throw new Error(`case ${c.id}: DeepCache skip_mode ${c.deepcache.skip_mode} is not described by image cases`);
  return { cache_interval: c.deepcache.cache_interval, cache_branch_id: c.deepcache.cache_branch_id, schedule: 'uniform' };
}

/**
 * The step kinds the case's rule gives: none → every step full; `counted` → the backend's per-run plan (the
 * counter starts at the run's first U-Net call); `helper` → DeepCacheSDHelper's rule, full iff
 * (index − first index) % interval == 0 over the indices it looked up (`helper_step_index`).
 */
export function ruleKinds(c: ImageCase, schedule: StrengthSchedule): StepKind[] {
  const settings = caseSettings(c);
  if (settings === false || c.deepcache_step_rule === null) {
    return deepcacheStepPlan(schedule.runLength, schedule.numInferenceSteps - schedule.tStart, false).map(() => 'full');
  }
  if (c.deepcache_step_rule === 'counted') return imageRunCache(schedule, settings).plan.map((f) => (f ? 'full' : 'shallow'));
  const idx = c.helper_step_index;
  if (idx.some((i) => i === null)) throw new Error(`case ${c.id}: helper rule without helper_step_index`);
  const first = idx[0]!;
  return idx.map((i) => ((i! - first!) % settings.cache_interval === 0 ? 'full' : 'shallow'));
}

export interface ImageRun {
  scheduler: Scheduler;
  schedule: StrengthSchedule;
  /** Injected draws by role. */
  draws: Map<string, Tensor>;
  imageLatents: Tensor | null;
  /** Inpainting: the mask on the latent grid and the masked image's latents (computed for every inpaint case). */
  mask?: Tensor;
  maskedImageLatents?: Tensor;
  start: Tensor;
  beforeBlend: Tensor[];
  perStep: Tensor[];
  finalLatents: Tensor;
  stepKinds: StepKind[];
}

function u8(t: Tensor): Uint8Array {
  return Uint8Array.from(t.data);
}

/**
 * Runs one case through the backend's image-to-image code with the given step kinds (the production plan for
 * `counted` cases comes back from `ruleKinds` identical to `imageRunCache`'s).
 */
export async function runImageCase(models: FixtureModels, c: ImageCase, kinds: readonly StepKind[]): Promise<ImageRun> {
  if (c.eta !== undefined && c.eta !== 0) throw new Error(`case ${c.id}: eta ${c.eta} is not reproducible without per-step draws`);
  const fx = models.fixture;
  const inputs = readJson(fx, c.inputs);
  const streams = readJson(fx, path.join(path.dirname(c.inputs), 'random_streams.json')) as Record<string, { draws: unknown[] }>;
  const draws = new Map<string, Tensor>();
  for (const d of c.random_draws) {
    const stream = streams[d.stream];
    if (!stream) throw new Error(`case ${c.id}: no random stream ${d.stream}`);
    if (!draws.has(d.role)) draws.set(d.role, fixtureTensor(stream.draws[d.stream_index]));
  }
  const draw = (role: string): Tensor => {
    const t = draws.get(role);
    if (!t) throw new Error(`case ${c.id}: the reference drew no ${role}`);
    return t;
  };

  const { scheduler } = schedulerFromDiffusersCase(c.scheduler, c.scheduler_config);
  scheduler.setTimesteps(c.num_inference_steps);
  const schedule = strengthSchedule(scheduler, c.num_inference_steps, c.strength);

  const encoderEntry = (fx.manifest.models as Record<string, { scaling_factor?: number } | null | undefined>).vae_encoder;
  const encoder = await models.vaeEncoder(encoderEntry?.scaling_factor ?? 0.18215);
  const imageU8 = fixtureTensor(inputs.image_uint8_nhwc);
  const [, H, W] = imageU8.dims as [number, number, number, number];
  const image = imageToTensor(u8(imageU8), W, H);
  const h = H / 8;
  const w = W / 8;

  const inpaint = c.kind === 'inpaint_sampling';
  const dedicated = inpaint && c.unet_in_channels === 9;
  const needImageLatents = !inpaint || !dedicated || c.strength < 1;
  const imageLatents = needImageLatents ? await encoder.encode(image, draw('image_latent_eps')) : null;
  let mask: Tensor | undefined;
  let maskedImageLatents: Tensor | undefined;
  if (inpaint) {
    // the reference passed the 0/1 mask as floats (1 = repaint): as an 8-bit mask that is 0/255
    const full = maskToTensor(
      Uint8Array.from(fixtureTensor(inputs.mask_uint8).data, (v) => v * 255),
      W,
      H,
    );
    mask = latentMask(full, h, w);
    maskedImageLatents = await encoder.encode(maskedImage(image, full), draw('masked_image_latent_eps'));
  }

  const settings = caseSettings(c);
  const branch = settings !== false && kinds.includes('shallow') ? settings.cache_branch_id : null;
  const unet = await models.unet(branch, models.modelKeyOfPath(c.unet));
  const perStep: Tensor[] = [];
  const beforeBlend: Tensor[] = [];
  const result = await sampleFromImage({
    unet,
    scheduler,
    schedule,
    imageLatents,
    noise: draw('noise'),
    ...(inpaint ? { inpaint: { mask: mask!, ...(dedicated ? { maskedImageLatents: maskedImageLatents! } : {}) } } : {}),
    cond: samplingConditioning(inputs),
    guidanceScales: c.guidance_scale > 1 ? [c.guidance_scale] : null,
    cache: FeatureCache.fromKinds(kinds, branch),
    onStep: (_s, _t, _k, latents) => perStep.push(latents),
    onSchedulerStep: (latents) => beforeBlend.push(latents),
  });
  return {
    scheduler,
    schedule,
    draws,
    imageLatents,
    ...(mask ? { mask } : {}),
    ...(maskedImageLatents ? { maskedImageLatents } : {}),
    start: result.start,
    beforeBlend,
    perStep,
    finalLatents: result.latents,
    stepKinds: result.stepKinds,
  };
}
