/**
 * `bench fleet`: how jobs get from the edge to the GPU backends on the local stack (tiny demo model, CPU).
 * Dispatch overhead: sequential one-image predictions on an idle backend, `started_at − created_at` per job
 * (accepted by the edge until a backend reported it running), p50/p95. Throughput: with 1, 2, 3 backends (each
 * added to the running stack), a backlog created at once; images per minute from the API's timestamps, and the
 * ratio to one backend (same run).
 * @module
 */
import os from 'node:os';
import type { Stack } from '../../scripts/stack/start-stack.js';
import type { Benchmark } from '../lib/benchmark.js';
import { machineInfo } from '../lib/machine.js';
import { fmt, formatTable } from '../lib/report.js';
import { quantile, round } from '../lib/stats.js';
import { summarize } from '../serving/summary.js';
import { withStack } from '../serving/stack.js';
import { createAndWait, createAsync, waitForAll, type FleetTarget } from './client.js';
import { throughputPlan, type ThroughputStep } from './plan.js';
import { batchThroughput, ratiosToFirst, startDelayMs, type Throughput } from './timing.js';

const WARMUP = 2;
/** Fleet sizes the throughput part steps through. */
const MAX_BACKENDS = 3;
/** Creates in flight at once while a backlog is created. */
const CREATE_CONCURRENCY = 6;

/** One throughput step's figures. */
interface StepResult extends ThroughputStep, Throughput {
  queue_wait_p50_ms: number;
  queue_wait_p95_ms: number;
  load_1m: number;
}

/** The create request for job `i` of the overhead run (its own seed). */
function createRequest(modelId: string, side: number, steps: number, i: number): unknown {
  return {
    model: modelId,
    input: { prompt: `a harbour at dawn, study ${i}`, width: side, height: side, num_inference_steps: steps, seed: 5000 + i },
  };
}

/** Sequential predictions on an idle backend: per job, the delay from accepted to started. */
async function measureOverhead(
  target: FleetTarget,
  modelId: string,
  side: number,
  steps: number,
  n: number,
  log: (line: string) => void,
): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await createAndWait(target, createRequest(modelId, side, steps, -1 - i));
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = await createAndWait(target, createRequest(modelId, side, steps, i));
    delays.push(startDelayMs(p));
    log(`overhead ${i + 1}/${n}: ${delays.at(-1)} ms accepted → started, load ${os.loadavg()[0]!.toFixed(2)}`);
  }
  return delays;
}

/** Creates a step's backlog (a few creates in flight), waits for all of it, and measures it. */
async function measureThroughput(
  stack: Stack,
  step: ThroughputStep,
  side: number,
  steps: number,
  log: (line: string) => void,
): Promise<StepResult> {
  while (stack.backends.running().length < step.backends) {
    const added = await stack.backends.add();
    log(`throughput: ${added.workerId} joined (${stack.backends.running().length} backends)`);
  }
  const target = { edgeUrl: stack.edgeUrl, apiKey: stack.apiKey };
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < step.predictions) {
        const i = next++;
        ids.push(await createAsync(target, createRequest(stack.modelId, side, steps, step.backends * 1000 + i)));
      }
    }),
  );
  const ended = await waitForAll(target, ids);
  const failed = ended.filter((p) => p.status !== 'succeeded');
  if (failed.length > 0)
    throw new Error(`${failed.length} predictions did not succeed: ${failed.map((p) => `${p.id} ${p.status}`).join(', ')}`);
  const waits = ended.map(startDelayMs);
  const result = {
    ...step,
    ...batchThroughput(ended),
    queue_wait_p50_ms: round(quantile(waits, 0.5), 0),
    queue_wait_p95_ms: round(quantile(waits, 0.95), 0),
    load_1m: round(os.loadavg()[0]!, 2),
  };
  log(
    `throughput: ${step.backends} backends, ${result.images} images in ${result.window_s} s = ${result.images_per_minute}/min, load ${result.load_1m}`,
  );
  return result;
}

export const fleetBenchmark: Benchmark = {
  name: 'fleet',
  describe:
    'dispatch overhead per job (accepted → started) and images/min with 1, 2, 3 backends; local stack, tiny demo model, 64², 4 steps',
  async run(args, log) {
    const side = args.size ?? 64;
    const steps = args.steps ?? 4;
    const n = args.rounds ?? (args.quick ? 10 : 30);
    const perBackend = args.quick ? 8 : 24;
    // Backend settings as in the push-dispatch baseline (onnxruntime's default threads unless --threads), so that
    // the overhead part measures the same thing; on a machine with fewer cores than backends they share the CPU.
    const machine = machineInfo(args.provider, args.threads);
    const backendEnv: Record<string, string> = {
      EXECUTION_PROVIDERS: args.provider,
      ...(args.threads > 0 ? { INTRA_OP_THREADS: String(args.threads) } : {}),
    };
    const threads = args.threads > 0 ? String(args.threads) : 'default';
    const plan = throughputPlan(MAX_BACKENDS, perBackend);
    // The backlog of a step must not be held back by the account's concurrency limit.
    const edgeVars = { DEFAULT_CONCURRENT_PREDICTIONS: String(MAX_BACKENDS * perBackend) };
    const { delays, throughput } = await withStack({ backendEnv, edgeVars, log }, async (stack) => {
      const target = { edgeUrl: stack.edgeUrl, apiKey: stack.apiKey };
      const measured = await measureOverhead(target, stack.modelId, side, steps, n, log);
      const results: StepResult[] = [];
      for (const step of plan) results.push(await measureThroughput(stack, step, side, steps, log));
      return { delays: measured, throughput: results };
    });
    const overhead = summarize(delays);
    const ratios = ratiosToFirst(throughput.map((t) => t.images_per_minute));
    const text = [
      `Dispatch overhead per job, accepted → started (ms), ${n} sequential jobs on an idle backend (${side}², ${steps} steps, after ${WARMUP} warm-up)`,
      '',
      formatTable(
        [{ header: 'n' }, { header: 'p50' }, { header: 'p95' }, { header: 'min' }, { header: 'max' }, { header: 'mean' }],
        [
          [
            String(overhead.n),
            fmt(overhead.p50, 0),
            fmt(overhead.p95, 0),
            fmt(overhead.min, 0),
            fmt(overhead.max, 0),
            fmt(overhead.mean, 0),
          ],
        ],
      ),
      '',
      `Throughput against the number of backends (intra-op threads per backend: ${threads}; a backlog of ${perBackend} predictions per backend, created at once)`,
      '',
      formatTable(
        [
          { header: 'backends' },
          { header: 'predictions' },
          { header: 'images' },
          { header: 'window s' },
          { header: 'images/min' },
          { header: '× 1 backend' },
          { header: 'queue wait p50 ms' },
          { header: 'queue wait p95 ms' },
          { header: 'load' },
        ],
        throughput.map((t, i) => [
          String(t.backends),
          String(t.predictions),
          String(t.images),
          fmt(t.window_s, 1),
          fmt(t.images_per_minute, 1),
          fmt(ratios[i], 2),
          fmt(t.queue_wait_p50_ms, 0),
          fmt(t.queue_wait_p95_ms, 0),
          fmt(t.load_1m, 2),
        ]),
      ),
    ].join('\n');
    return {
      text,
      payload: {
        machine,
        side,
        steps,
        warmup: WARMUP,
        threads_per_backend: threads,
        overhead_ms: overhead,
        overhead_samples_ms: delays,
        throughput: throughput.map((t, i) => ({ ...t, ratio_to_one_backend: ratios[i] })),
        load_at_end: round(os.loadavg()[0]!, 2),
      },
      headline: {
        overhead_p50_ms: overhead.p50,
        overhead_p95_ms: overhead.p95,
        n,
        images_per_minute: Object.fromEntries(throughput.map((t) => [t.backends, t.images_per_minute])),
        ratio_to_one_backend: Object.fromEntries(throughput.map((t, i) => [t.backends, ratios[i]])),
      },
    };
  },
};
