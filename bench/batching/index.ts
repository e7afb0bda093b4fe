/**
 * `bench batching`: images per minute of the pipeline serving a burst of single-image jobs through the backend's
 * batch queue at most 1 (one-at-a-time), 2 or 4 images per run, on the tiny synthetic SD 1.5 model (real
 * architecture, narrow widths), 256², CFG, PLMS. Rounds interleave the batch sizes; medians are reported.
 * @module
 */
import { loadPipeline } from '../../gpu-backend/src/pipeline/load.js';
import { ensureBenchModel } from '../bench-models.js';
import type { Benchmark } from '../lib/benchmark.js';
import { machineInfo, machineLine } from '../lib/machine.js';
import { fmt, formatTable } from '../lib/report.js';
import { median, round } from '../lib/stats.js';
import { benchInput } from '../deepcache/loops.js';
import { drainBurst, type DrainResult } from './drain.js';

const BATCHES = [1, 2, 4] as const;

export const batchingBenchmark: Benchmark = {
  name: 'batching',
  describe: 'images/minute with dynamic batching (max 1/2/4 per run) on a burst of jobs; tiny SD 1.5, 256², PLMS',
  async run(args, log) {
    const side = args.size ?? 256;
    const steps = args.steps ?? (args.quick ? 10 : 20);
    const rounds = args.rounds ?? (args.quick ? 2 : 3);
    const jobs = 8;
    const model = await ensureBenchModel({ arch: 'sd15', scale: 'tiny' });
    const pipeline = await loadPipeline({
      modelId: 'bench/sd15-tiny',
      modelDir: model.dir,
      providers: [args.provider],
      intraOpThreads: args.threads || undefined,
    });
    const runs: DrainResult[][] = BATCHES.map(() => []);
    try {
      const inputs = Array.from({ length: jobs }, (_, i) => ({
        ...benchInput({ side, steps, scheduler: 'pndm' }, false, i),
        prompt: `a photograph of object number ${i} on a table`,
      }));
      log('warm-up');
      for (const b of BATCHES) await drainBurst(pipeline, inputs.slice(0, b), b);
      for (let r = 0; r < rounds; r++) {
        for (const [i, b] of BATCHES.entries()) {
          const res = await drainBurst(pipeline, inputs, b);
          runs[i]!.push(res);
          log(`round ${r + 1}, max batch ${b}: ${fmt(res.imagesPerMinute, 1)} images/min (${res.batchSizes.join(' ')})`);
        }
      }
    } finally {
      await pipeline.dispose();
    }
    const machine = machineInfo(args.provider, args.threads);
    const rows = BATCHES.map((b, i) => {
      const ipm = median(runs[i]!.map((x) => x.imagesPerMinute));
      return { max_batch: b, images_per_minute: round(ipm, 1), samples: runs[i]!.map((x) => round(x.imagesPerMinute, 1)) };
    });
    const one = rows[0]!.images_per_minute;
    const headline = {
      model: 'sd15-tiny (synthetic, random weights)',
      provider: args.provider,
      width: side,
      height: side,
      steps,
      scheduler: 'pndm',
      jobs,
      results: rows.map((r) => ({
        max_batch: r.max_batch,
        images_per_minute: r.images_per_minute,
        gain_vs_one_at_a_time: round(r.images_per_minute / one),
      })),
    };
    const text = [
      `dynamic batching: burst of ${jobs} one-image jobs (CFG), sd15-tiny, ${side}², PLMS ${steps} steps, median of ${rounds} rounds`,
      `machine: ${machineLine(machine)}`,
      formatTable(
        [{ header: 'max batch', align: 'left' }, { header: 'images/min' }, { header: 'vs one-at-a-time' }, { header: 'rounds' }],
        rows.map((r) => [String(r.max_batch), fmt(r.images_per_minute, 1), `${fmt(r.images_per_minute / one)}×`, r.samples.join(' ')]),
      ),
    ].join('\n');
    return { text, payload: { machine, model: model.dir, runs, headline }, headline };
  },
};
