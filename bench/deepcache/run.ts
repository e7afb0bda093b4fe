/**
 * The DeepCache benchmark: the synthetic SD 1.5 U-Net at full width (random weights), one image with CFG (U-Net
 * batch 2), PLMS (`pndm`). In one run: the MAC ceilings, interleaved per-call medians of the full and shallow
 * graphs, then rounds of whole pipeline runs (the no-cache baseline and every case, in rotated order per round);
 * each configuration's fastest run counts, since contention on a shared machine only slows runs down.
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildUnet } from '../../gpu-backend/src/synthetic/index.js';
import { deepcacheCeiling, type BranchCeiling } from '../../gpu-backend/src/onnx/index.js';
import { loadPipeline } from '../../gpu-backend/src/pipeline/load.js';
import type { ExecutionProvider } from '../../gpu-backend/src/pipeline/ort-session.js';
import { createScheduler } from '../../gpu-backend/src/schedulers/registry.js';
import { ensureBenchModel } from '../bench-models.js';
import { machineInfo, type MachineInfo } from '../lib/machine.js';
import { round } from '../lib/stats.js';
import {
  DEEPCACHE_CASES,
  callTimeSpeedup,
  caseBranches,
  caseLabel,
  caseSettings,
  planCeiling,
  planCounts,
  type DeepCacheCase,
} from './cases.js';
import { benchInput, fastestRun, rotated, timeRun, type LoopRun } from './loops.js';
import { timeUnetCalls, type CallTimings } from './per-call.js';
import { openUnet } from './unet-graphs.js';

/** Options of {@link runDeepCacheBench}. */
export interface DeepCacheBenchOptions {
  readonly side: number;
  readonly steps: number;
  readonly provider: ExecutionProvider;
  /** 0 = onnxruntime's default. */
  readonly threads: number;
  /** Measured rounds of single U-Net calls. */
  readonly callRounds: number;
  /** Rounds of whole runs; each round runs the baseline and every case, rotated; the fastest run of each counts. */
  readonly repeats: number;
  /** The fp16 model (weights, activations and I/O in float16). */
  readonly fp16?: boolean;
  readonly cases?: readonly DeepCacheCase[];
  readonly log?: (line: string) => void;
}

/** One case's figures. */
export interface CaseResult {
  readonly case: DeepCacheCase;
  readonly label: string;
  readonly fullSteps: number;
  readonly shallowSteps: number;
  readonly run: LoopRun;
  readonly unetSpeedup: number;
  readonly e2eSpeedup: number;
  /** End-to-end speed-up in process CPU time (robust to a busy machine; includes spin-waiting threads). */
  readonly e2eCpuSpeedup: number;
  readonly ceilingWithAttention: number;
  readonly ceilingPaper: number;
  /** Loop speed-up predicted from the per-call medians (no per-step overhead). */
  readonly callTimeSpeedup: number;
}

/** Everything the benchmark measured. */
export interface DeepCacheReport {
  readonly machine: MachineInfo;
  readonly model: { readonly name: string; readonly dir: string; readonly built: boolean; readonly buildMs: number };
  readonly side: number;
  readonly steps: number;
  readonly loopSteps: number;
  readonly scheduler: 'pndm';
  readonly ceilings: readonly BranchCeiling[];
  readonly calls: readonly CallTimings[];
  /** Every whole run, in execution order. */
  readonly runs: readonly LoopRun[];
  readonly baseline: LoopRun & { readonly spread: number };
  readonly cases: readonly CaseResult[];
  readonly setupMs: Readonly<Record<string, number>>;
}

/** Runs the benchmark. */
export async function runDeepCacheBench(opts: DeepCacheBenchOptions): Promise<DeepCacheReport> {
  const log = opts.log ?? (() => {});
  const cases = opts.cases ?? DEEPCACHE_CASES;
  const branches = caseBranches(cases);
  const setupMs: Record<string, number> = {};
  let t0 = performance.now();

  // 1. model (built once, cached) and MAC ceilings of the exact call shape (batch 2 = CFG)
  const model = await ensureBenchModel({ arch: 'sd15', scale: 'full', ...(opts.fp16 ? { fp16: true } : {}) });
  setupMs.model = performance.now() - t0;
  log(`model ${model.dir} (${model.built ? `built in ${(model.buildMs / 1000).toFixed(0)} s` : 'cached'})`);
  t0 = performance.now();
  const latent = opts.side / 8;
  const dims = { sample: [2, 4, latent, latent], timestep: [1], encoder_hidden_states: [2, 77, 768] };
  const ceilings = deepcacheCeiling(buildUnet('sd15', 'full', { weights: 'shapes-only' }), dims);
  setupMs.ceilings = performance.now() - t0;

  // 2. single U-Net calls, interleaved (own sessions, released before the pipeline loads)
  t0 = performance.now();
  const opened = await openUnet({ modelDir: model.dir, providers: [opts.provider], branches, intraOpThreads: opts.threads || undefined });
  setupMs.read_model_directory = opened.prepareMs;
  setupMs.unet_sessions = opened.sessionMs;
  log(
    `U-Net sessions ready (model directory ${(opened.prepareMs / 1000).toFixed(1)} s, graph cache + sessions ${(opened.sessionMs / 1000).toFixed(1)} s); timing single calls`,
  );
  let calls: CallTimings[];
  try {
    calls = await timeUnetCalls(opened.unet, branches, { batch: 2, latentSide: latent, contextDim: 768 }, opts.callRounds);
  } finally {
    await opened.unet.dispose();
  }
  setupMs.calls = performance.now() - t0;

  // 3. whole runs through the pipeline
  t0 = performance.now();
  const pipeline = await loadPipeline({
    modelId: 'bench/sd15-full',
    modelDir: model.dir,
    providers: [opts.provider],
    deepcacheBranches: branches,
    intraOpThreads: opts.threads || undefined,
  });
  setupMs.pipeline_load = performance.now() - t0;
  const scheduler = createScheduler('pndm', JSON.parse(await readFile(path.join(model.dir, 'scheduler/scheduler_config.json'), 'utf8')));
  scheduler.setTimesteps(opts.steps);
  const loopSteps = scheduler.timesteps.length;
  const shape = { side: opts.side, steps: opts.steps, scheduler: 'pndm' as const };
  const all: LoopRun[] = [];
  try {
    t0 = performance.now();
    log('pipeline warm-up (2 steps, every branch)');
    await timeRun(pipeline, 'warmup', benchInput({ ...shape, steps: 2 }, false));
    for (const b of branches)
      await timeRun(pipeline, 'warmup', benchInput({ ...shape, steps: 2 }, { cache_interval: 2, cache_branch_id: b, schedule: 'uniform' }));
    setupMs.pipeline_warmup = performance.now() - t0;
    const configs = [
      { label: 'baseline', settings: false as const },
      ...cases.map((c) => ({ label: caseLabel(c), settings: caseSettings(c) })),
    ];
    for (let round = 0; round < opts.repeats; round++) {
      for (const cfg of rotated(configs, round)) {
        const r = await timeRun(pipeline, cfg.label, benchInput(shape, cfg.settings));
        all.push(r);
        log(
          `round ${round + 1} ${r.label.padEnd(16)} loop ${(r.loopMs / 1000).toFixed(2)} s, e2e ${(r.e2eMs / 1000).toFixed(2)} s (${r.fullSteps} full + ${r.shallowSteps} shallow)`,
        );
      }
    }
  } finally {
    await pipeline.dispose();
  }

  // 4. ratios
  const fastest = (label: string) => fastestRun(all.filter((r) => r.label === label));
  const baseRuns = all.filter((r) => r.label === 'baseline');
  const baseline = {
    ...fastest('baseline'),
    spread: Math.max(...baseRuns.map((r) => r.loopMs)) / Math.min(...baseRuns.map((r) => r.loopMs)) - 1,
  };
  const fullCall = calls.find((c) => c.graph === 'full')!.medianMs;
  const results: CaseResult[] = cases.map((c) => {
    const run = fastest(caseLabel(c));
    const counts = planCounts(c, loopSteps, opts.steps);
    if (counts.full !== run.fullSteps) throw new Error(`${caseLabel(c)}: the plan has ${counts.full} full steps, the run ${run.fullSteps}`);
    const bc = ceilings[c.branch]!;
    const ceiling = planCeiling(bc.full, bc.shallow, counts);
    const shallowCall = calls.find((x) => x.branch === c.branch)!.medianMs;
    return {
      case: c,
      label: caseLabel(c),
      fullSteps: counts.full,
      shallowSteps: counts.shallow,
      run,
      unetSpeedup: baseline.loopMs / run.loopMs,
      e2eSpeedup: baseline.e2eMs / run.e2eMs,
      e2eCpuSpeedup: baseline.e2eCpuMs / run.e2eCpuMs,
      ceilingWithAttention: ceiling.withAttention,
      ceilingPaper: ceiling.paper,
      callTimeSpeedup: callTimeSpeedup(fullCall, shallowCall, counts),
    };
  });
  return {
    machine: machineInfo(opts.provider, opts.threads),
    model: {
      name: `sd15-full (synthetic, random weights, ${opts.fp16 ? 'fp16' : 'fp32'})`,
      dir: model.dir,
      built: model.built,
      buildMs: round(model.buildMs, 0),
    },
    side: opts.side,
    steps: opts.steps,
    loopSteps,
    scheduler: 'pndm',
    ceilings,
    calls,
    runs: all,
    baseline,
    cases: results,
    setupMs,
  };
}
