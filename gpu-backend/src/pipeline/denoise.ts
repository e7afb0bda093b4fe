/**
 * The denoising loop: classifier-free guidance and the DeepCache policy around a scheduler and a U-Net port.
 * It owns orchestration only; the update rule is the scheduler's, the noise prediction the U-Net's.
 * @module
 */
import type { NoiseSource } from '../noise/noise-source.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import type { Tensor } from '../tensor/tensor.js';
import { applyGuidance, concatRows, sliceRows } from './guidance.js';
import type { FeatureCache, StepKind } from './feature-cache.js';
import { selectFeatureRows, type UNetConditioning, type UNetModel } from './unet.js';

export interface DenoiseOptions {
  unet: UNetModel;
  /** A scheduler on which `setTimesteps(numInferenceSteps)` was called. */
  scheduler: Scheduler;
  /**
   * [B, 4, h, w] initial latents: N(0, 1) draws, scaled by the scheduler's initNoiseSigma here, or, with
   * `startLatents: true`, the loop's start latents used as they are (image-to-image: the noised image latents).
   */
  latents: Tensor;
  /** The latents are the loop's start latents already (no initNoiseSigma scaling). Default false. */
  startLatents?: boolean;
  /**
   * Position of `scheduler.timesteps` the run begins at (image-to-image's truncated schedule; the scheduler's
   * `setBeginIndex` is called here). Default 0. The run has `timesteps.length − beginIndex` loop steps, and the
   * DeepCache plan covers exactly those (its step counter starts at the run's first U-Net call).
   */
  beginIndex?: number;
  /**
   * Channels appended to the scaled model input on axis 1 before the U-Net (an inpainting U-Net's mask and
   * masked-image latents), batched like the model input ([2B, C, h, w] with CFG, else [B, C, h, w]).
   */
  extraChannels?: Tensor;
  /**
   * Called after each scheduler step with the latents, the run position and the scheduler position of the step;
   * returns the latents the loop continues with (inpainting with a regular U-Net blends the known region back).
   */
  afterStep?: (latents: Tensor, runIndex: number, schedulerIndex: number) => Tensor;
  /**
   * Conditioning batched for CFG (uncond rows 0…B−1, cond rows B…2B−1) when `guidanceScales` is given,
   * else B cond rows.
   */
  cond: UNetConditioning;
  /** Guidance scale per row (length B), or null to run without classifier-free guidance. */
  guidanceScales: readonly number[] | null;
  cache: FeatureCache;
  /** Noise for stochastic schedulers: one independent stream per batch row. */
  noise?: NoiseSource;
  signal?: AbortSignal;
  /** Called after each step with the 1-based run step number and the latents after it ([B, 4, h, w]). */
  onStep?: (step: number, total: number, kind: StepKind, latents: Tensor) => void;
}

export interface DenoiseResult {
  /** [B, 4, h, w] final latents */
  latents: Tensor;
  fullSteps: number;
  shallowSteps: number;
  stepKinds: StepKind[];
}

/** Concatenates [N, Ca, h, w] and [N, Cb, h, w] on the channel axis. */
function concatChannels(a: Tensor, b: Tensor): Tensor {
  const [n, ca, h, w] = a.dims as [number, number, number, number];
  const cb = b.dims[1]!;
  if (b.dims.length !== 4 || b.dims[0] !== n || b.dims[2] !== h || b.dims[3] !== w) {
    throw new RangeError(`concatChannels: [${b.dims.join(', ')}] does not fit [${a.dims.join(', ')}]`);
  }
  const plane = h * w;
  const data = new Float32Array(n * (ca + cb) * plane);
  for (let r = 0; r < n; r++) {
    data.set(a.data.subarray(r * ca * plane, (r + 1) * ca * plane), r * (ca + cb) * plane);
    data.set(b.data.subarray(r * cb * plane, (r + 1) * cb * plane), (r * (ca + cb) + ca) * plane);
  }
  return { data, dims: [n, ca + cb, h, w] };
}

function scaleBy(t: Tensor, s: number): Tensor {
  if (s === 1) return t;
  const data = new Float32Array(t.data.length);
  const f = Math.fround(s);
  for (let i = 0; i < data.length; i++) data[i] = t.data[i]! * f;
  return { data, dims: t.dims };
}

/**
 * Runs the sampling loop (one lane of {@link denoiseLanes}).
 * 1. latents × initNoiseSigma (unless they are start latents); 2. per run step k (scheduler position
 * i = beginIndex + k): model input (doubled for CFG) → scaleModelInput → extra channels → full or shallow U-Net by
 * the cache's plan at k → guidance → scheduler.step → afterStep.
 * @throws the signal's reason (an AbortError) when aborted between steps
 */
export async function denoise(opts: DenoiseOptions): Promise<DenoiseResult> {
  const { unet, cache, cond, guidanceScales, scheduler } = opts;
  const lane: DenoiseLane = {
    scheduler,
    latents: opts.latents,
    cond,
    guidanceScales,
    ...(opts.startLatents ? { startLatents: true } : {}),
    ...(opts.extraChannels ? { extraChannels: opts.extraChannels } : {}),
    ...(opts.afterStep ? { afterStep: opts.afterStep } : {}),
    ...(opts.noise ? { noise: opts.noise } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
  };
  const run = await denoiseLanes({ unet, cache, lanes: [lane], ...(opts.beginIndex ? { beginIndex: opts.beginIndex } : {}) });
  const [only] = run.lanes;
  if (only instanceof Error) throw only;
  return { latents: only!.latents, fullSteps: run.fullSteps, shallowSteps: run.shallowSteps, stepKinds: run.stepKinds };
}

/**
 * One job of a batched run: its own rows, scheduler, noise stream and abort signal. Lanes share the U-Net calls;
 * everything else (guidance, the scheduler update, noise) is per lane, so a lane's result does not depend on the
 * other lanes, and a lane whose signal aborts leaves the batch at the next step boundary.
 */
export interface DenoiseLane {
  /** A scheduler on which `setTimesteps` was called (every lane: the same steps). */
  scheduler: Scheduler;
  /** [k, 4, h, w] initial N(0, 1) latents of this lane (or, with `startLatents`, its start latents). */
  latents: Tensor;
  /** The latents are the loop's start latents already (no initNoiseSigma scaling). Default false. */
  startLatents?: boolean;
  /** This lane's extra U-Net input channels, rows as its model input (CFG: k uncond, then k cond). */
  extraChannels?: Tensor;
  /** Called after each scheduler step of this lane; returns the latents it continues with. */
  afterStep?: (latents: Tensor, runIndex: number, schedulerIndex: number) => Tensor;
  /** This lane's conditioning: CFG → 2k rows (k uncond, then k cond), else k rows. */
  cond: UNetConditioning;
  /** Guidance scale per row (length k), or null without CFG (equal for every lane). */
  guidanceScales: readonly number[] | null;
  noise?: NoiseSource;
  signal?: AbortSignal;
  onStep?: (step: number, total: number, kind: StepKind, latents: Tensor) => void;
}

export interface DenoiseLanesResult {
  /** Per lane: its final latents and the U-Net calls its rows took part in, or its abort reason. */
  lanes: Array<{ latents: Tensor; evaluations: number } | Error>;
  fullSteps: number;
  shallowSteps: number;
  stepKinds: StepKind[];
  /** U-Net row evaluations in all (CFG counts both rows of an image). */
  unetRows: number;
  /** Row evaluations of lanes whose signal had already aborted when the call started (0: cancel stops at the next step). */
  unetRowsAfterAbort: number;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

/** The lanes' tensors of `f` in U-Net row order (CFG: every lane's uncond rows, then every lane's cond rows). */
function batchRows(lanes: readonly DenoiseLane[], cfg: boolean, f: (l: DenoiseLane) => Tensor | undefined): Tensor | undefined {
  const parts = lanes.map(f);
  if (parts.some((p) => p === undefined)) return undefined;
  const ts = parts as Tensor[];
  if (ts.length === 1) return ts[0];
  if (!cfg) return concatRows(ts);
  return concatRows([...ts.map((t) => sliceRows(t, 0, t.dims[0]! / 2)), ...ts.map((t) => sliceRows(t, t.dims[0]! / 2, t.dims[0]!))]);
}

function condRows(lanes: readonly DenoiseLane[], cfg: boolean): UNetConditioning {
  const text = batchRows(lanes, cfg, (l) => l.cond.textEmbeds);
  const ids = batchRows(lanes, cfg, (l) => l.cond.timeIds);
  return {
    encoderHiddenStates: batchRows(lanes, cfg, (l) => l.cond.encoderHiddenStates)!,
    ...(text ? { textEmbeds: text } : {}),
    ...(ids ? { timeIds: ids } : {}),
  };
}

/**
 * Batch rows (in U-Net order) that lanes `kept` occupied in a batch of lanes `before` (CFG: the uncond half,
 * then the cond half).
 */
function keptRows(before: readonly DenoiseLane[], kept: readonly DenoiseLane[], cfg: boolean): number[] {
  const offsets = new Map<DenoiseLane, number>();
  let total = 0;
  for (const l of before) {
    offsets.set(l, total);
    total += l.latents.dims[0]!;
  }
  const rows: number[] = [];
  for (const half of cfg ? [0, total] : [0]) {
    for (const l of kept) for (let r = 0; r < l.latents.dims[0]!; r++) rows.push(half + offsets.get(l)! + r);
  }
  return rows;
}

/**
 * Runs lanes as one batch. Before every step the lanes whose signal aborted leave: their rows are dropped from
 * the latents, the conditioning and the cached DeepCache feature, so no U-Net call computes them again. The other
 * lanes' results are the same bytes as without the aborted lanes. Rejects only when every lane aborted.
 */
export async function denoiseLanes(opts: {
  unet: UNetModel;
  cache: FeatureCache;
  lanes: readonly DenoiseLane[];
  /**
   * Position of the schedulers' timesteps the run begins at (image-to-image's truncated schedule; every lane's
   * `setBeginIndex` is called here). Default 0. The DeepCache plan covers the run's steps, counted from its start.
   */
  beginIndex?: number;
}): Promise<DenoiseLanesResult> {
  const { unet, cache } = opts;
  const begin = opts.beginIndex ?? 0;
  if (begin !== 0) for (const l of opts.lanes) l.scheduler.setBeginIndex(begin);
  const total = (opts.lanes[0]?.scheduler.timesteps.length ?? begin) - begin;
  if (cache.plan.length !== total) throw new RangeError(`DeepCache plan has ${cache.plan.length} steps, the run ${total}`);
  const cfg = (opts.lanes[0]?.guidanceScales ?? null) !== null;
  const state = opts.lanes.map((lane) => ({
    lane,
    latents: lane.startLatents ? lane.latents : scaleBy(lane.latents, lane.scheduler.initNoiseSigma),
    evaluations: 0,
  }));
  let active = [...opts.lanes];
  let cond = condRows(active, cfg);
  let extra = batchRows(active, cfg, (l) => l.extraChannels);
  const stepKinds: StepKind[] = [];
  let unetRows = 0;
  let unetRowsAfterAbort = 0;
  const stateOf = (l: DenoiseLane) => state[opts.lanes.indexOf(l)]!;
  try {
    for (let k = 0; k < total; k++) {
      const staying = active.filter((l) => !l.signal?.aborted);
      if (staying.length === 0) throw abortReason(active[0]!.signal!);
      if (staying.length !== active.length) {
        // Lanes leave at this step boundary: drop their rows everywhere.
        if (cache.branch !== null && cache.hasFeature) cache.store(selectFeatureRows(cache.feature, keptRows(active, staying, cfg)));
        active = staying;
        cond = condRows(active, cfg);
        extra = batchRows(active, cfg, (l) => l.extraChannels);
      }
      const i = begin + k;
      const t = opts.lanes[0]!.scheduler.timesteps[i]!;
      const latents = active.length === 1 ? stateOf(active[0]!).latents : concatRows(active.map((l) => stateOf(l).latents));
      const doubled = cfg ? concatRows([latents, latents]) : latents;
      const scaled = active[0]!.scheduler.scaleModelInput(doubled, i);
      const input = extra ? concatChannels(scaled, extra) : scaled;
      const rows = input.dims[0]!;
      unetRows += rows;
      for (const l of active) {
        stateOf(l).evaluations++;
        if (l.signal?.aborted) unetRowsAfterAbort += (cfg ? 2 : 1) * l.latents.dims[0]!;
      }
      let out: Tensor;
      const kind: StepKind = cache.isFullStep(k) ? 'full' : 'shallow';
      if (kind === 'full') {
        const r = await unet.predict(input, t, cond, cache.captureBranch);
        cache.store(r.feature);
        out = r.noise;
      } else {
        out = await unet.predictShallow(input, t, cond, cache.feature);
      }
      const guided = cfg
        ? applyGuidance(
            out,
            active.flatMap((l) => l.guidanceScales!),
          )
        : out;
      let row = 0;
      for (const l of active) {
        const st = stateOf(l);
        const laneRowCount = l.latents.dims[0]!;
        // One lane: the whole tensor; several: a copy of the lane's rows (schedulers may keep model outputs).
        const own =
          active.length === 1
            ? guided
            : { data: sliceRows(guided, row, row + laneRowCount).data.slice(), dims: [laneRowCount, ...guided.dims.slice(1)] };
        row += laneRowCount;
        st.latents = l.scheduler.step(own, i, st.latents, l.noise).prevSample;
        if (l.afterStep) st.latents = l.afterStep(st.latents, k, i);
        l.onStep?.(k + 1, total, kind, st.latents);
      }
      stepKinds.push(kind);
    }
  } finally {
    cache.clear();
  }
  const fullSteps = stepKinds.filter((k) => k === 'full').length;
  return {
    lanes: state.map((st) =>
      active.includes(st.lane) && !st.lane.signal?.aborted
        ? { latents: st.latents, evaluations: st.evaluations }
        : abortReason(st.lane.signal!),
    ),
    fullSteps,
    shallowSteps: stepKinds.length - fullSteps,
    stepKinds,
    unetRows,
    unetRowsAfterAbort,
  };
}
