/**
 * `bench fleet`: how jobs get from the edge to the GPU backends on the local stack (tiny demo model, CPU).
 * Dispatch overhead: sequential one-image predictions on an idle backend, `started_at − created_at` per job
 * (accepted by the edge until a backend reported it running), p50/p95.
 * @module
 */
import os from 'node:os';
import type { Benchmark } from '../lib/benchmark.js';
import { machineInfo } from '../lib/machine.js';
import { fmt, formatTable } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { summarize } from '../serving/summary.js';
import { withStack } from '../serving/stack.js';
import { createAndWait, type FleetTarget } from './client.js';
import { startDelayMs } from './timing.js';

const WARMUP = 2;

/** The create request for job `i` of the overhead run (its own seed). */
function createRequest(modelId: string, side: number, steps: number, i: number): unknown {
  return { model: modelId, input: { prompt: `a harbour at dawn, study ${i}`, width: side, height: side, num_inference_steps: steps, seed: 5000 + i } };
}

/** Sequential predictions on an idle backend: per job, the delay from accepted to started. */
async function measureOverhead(target: FleetTarget, modelId: string, side: number, steps: number, n: number, log: (line: string) => void): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await createAndWait(target, createRequest(modelId, side, steps, -1 - i));
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = await createAndWait(target, createRequest(modelId, side, steps, i));
    delays.push(startDelayMs(p));
    log(`overhead ${i + 1}/${n}: ${delays.at(-1)} ms accepted → started, load ${os.loadavg()[0]!.toFixed(2)}`);
  }
  return delays;
}

export const fleetBenchmark: Benchmark = {
  name: 'fleet',
  describe: 'dispatch overhead per job (accepted → started, p50/p95) on the local stack; tiny demo model, 64², 4 steps',
  async run(args, log) {
    const side = args.size ?? 64;
    const steps = args.steps ?? 4;
    const n = args.rounds ?? (args.quick ? 10 : 30);
    const machine = machineInfo(args.provider, args.threads);
    const backendEnv: Record<string, string> = { EXECUTION_PROVIDERS: args.provider, ...(args.threads > 0 ? { INTRA_OP_THREADS: String(args.threads) } : {}) };
    const delays = await withStack({ backendEnv, log }, async (stack) => {
      const target = { edgeUrl: stack.edgeUrl, apiKey: stack.apiKey };
      return measureOverhead(target, stack.modelId, side, steps, n, log);
    });
    const overhead = summarize(delays);
    const text = [
      `Dispatch overhead per job, accepted → started (ms), ${n} sequential jobs on an idle backend (${side}², ${steps} steps, after ${WARMUP} warm-up)`,
      '',
      formatTable(
        [{ header: 'n' }, { header: 'p50' }, { header: 'p95' }, { header: 'min' }, { header: 'max' }, { header: 'mean' }],
        [[String(overhead.n), fmt(overhead.p50, 0), fmt(overhead.p95, 0), fmt(overhead.min, 0), fmt(overhead.max, 0), fmt(overhead.mean, 0)]],
      ),
    ].join('\n');
    return {
      text,
      payload: { machine, side, steps, warmup: WARMUP, overhead_ms: overhead, overhead_samples_ms: delays, load_at_end: round(os.loadavg()[0]!, 2) },
      headline: { overhead_p50_ms: overhead.p50, overhead_p95_ms: overhead.p95, n },
    };
  },
};
