/**
 * `bench serving`: what the product adds around the pipeline. The whole stack (edge in `wrangler dev`, s3rver,
 * the backend service on the CPU with the tiny demo model) against the same model directory loaded in this
 * process: the same one-image request (DeepCache I3B0) run sequentially, bare and through the API alternately,
 * never both at once. Reports p50/p95 of the bare run (generation + sharp encoding), the synchronous create,
 * their paired difference, the presigned download, a read with a fresh presign, and the backend's predict_time.
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import { PredictionInput, resolveInput, type ResolvedInput } from '../../shared/prediction.js';
import { findModel } from '../../shared/models.js';
import type { Benchmark } from '../lib/benchmark.js';
import { machineInfo } from '../lib/machine.js';
import { round } from '../lib/stats.js';
import { timeApiRequest, type ApiSample } from './api.js';
import { BarePipeline, type BareSample } from './bare.js';
import { servingReport, type ServingRun } from './report.js';
import { withStack } from './stack.js';

const WARMUP = 2;

/** The create request for sample `i` (its own seed) and the input the edge resolves it to. */
function requestFor(modelId: string, side: number, steps: number, i: number): { request: unknown; resolved: ResolvedInput } {
  const input = {
    prompt: `a lighthouse on a cliff at dusk, study ${i}`,
    width: side,
    height: side,
    num_inference_steps: steps,
    seed: 1000 + i,
    deepcache: { cache_interval: 3, cache_branch_id: 0 },
  };
  const spec = findModel(modelId);
  if (!spec) throw new Error(`model ${modelId} is not in the catalogue`);
  const resolved = resolveInput(PredictionInput.parse(input), spec, () => {
    throw new Error('the request has a seed');
  });
  return { request: { model: modelId, input }, resolved };
}

export const servingBenchmark: Benchmark = {
  name: 'serving',
  describe: 'API (edge + S3 + presign) vs the bare pipeline, p50/p95 per request; local stack, tiny demo model, 128², 10 steps',
  async run(args, log) {
    const side = args.size ?? 128;
    const steps = args.steps ?? 10;
    const n = args.rounds ?? (args.quick ? 5 : 20);
    const machine = machineInfo(args.provider, args.threads);
    const backendEnv: Record<string, string> = {
      EXECUTION_PROVIDERS: args.provider,
      ...(args.threads > 0 ? { INTRA_OP_THREADS: String(args.threads) } : {}),
    };
    const t0 = performance.now();
    const run = await withStack({ backendEnv, log }, async (stack, stateDir): Promise<ServingRun> => {
      const startS = (performance.now() - t0) / 1000;
      log(`stack up in ${startS.toFixed(1)} s; loading the bare pipeline from ${stack.modelDir}`);
      const bare = await BarePipeline.open({
        modelId: stack.modelId,
        modelDir: stack.modelDir,
        provider: args.provider,
        threads: args.threads,
        deepcacheCacheDir: path.join(stateDir, 'bare-deepcache'),
      });
      const target = { edgeUrl: stack.edgeUrl, apiKey: stack.apiKey };
      const bareSamples: BareSample[] = [];
      const apiSamples: ApiSample[] = [];
      const bareFirst: boolean[] = [];
      try {
        log(`warm-up: ${WARMUP} requests each way`);
        for (let i = 0; i < WARMUP; i++) {
          const { request, resolved } = requestFor(stack.modelId, side, steps, -1 - i);
          await timeApiRequest(target, request);
          await bare.run(resolved);
        }
        for (let i = 0; i < n; i++) {
          const { request, resolved } = requestFor(stack.modelId, side, steps, i);
          // Alternate the order so that neither side always runs right after the other's work.
          const first = i % 2 === 0;
          const before = first ? await bare.run(resolved) : undefined;
          const a = await timeApiRequest(target, request);
          const b = before ?? (await bare.run(resolved));
          bareSamples.push(b);
          apiSamples.push(a);
          bareFirst.push(first);
          log(
            `${i + 1}/${n}: bare ${b.total_ms.toFixed(0)} ms, API ${a.create_ms.toFixed(0)} ms (predict_time ${a.predict_ms.toFixed(0)}), ` +
              `download ${a.download_ms.toFixed(1)} ms, GET ${a.get_ms.toFixed(1)} ms, load ${os.loadavg()[0]!.toFixed(2)}`,
          );
        }
      } finally {
        await bare.dispose();
      }
      return {
        stack_start_s: round(startS, 1),
        model_id: stack.modelId,
        model_dir: stack.modelDir,
        bare: bareSamples,
        api: apiSamples,
        bare_first: bareFirst,
      };
    });
    const loadAtEnd = round(os.loadavg()[0]!, 2);
    return servingReport({ args, side, steps, n, warmup: WARMUP, machine, loadAtEnd, run });
  },
};
