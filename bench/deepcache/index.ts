/**
 * `bench deepcache`: DeepCache speed-up vs its MAC ceiling on the full-width SD 1.5 U-Net, with the peer's figures.
 * Full: 256², PLMS 50 steps, 5 rounds of single calls, 2 rounds of whole runs. `--quick`: 128², 10 steps, 2 rounds of
 * single calls, 2 rounds of whole runs.
 * @module
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Benchmark } from '../lib/benchmark.js';
import { fileTimestamp, RESULTS_DIR } from '../lib/report.js';
import { deepcacheSvg, writePng } from './plot.js';
import { runDeepCacheBench } from './run.js';
import { deepcacheHeadline, deepcacheTables } from './summary.js';

export const deepcacheBenchmark: Benchmark = {
  name: 'deepcache',
  describe: 'DeepCache speed-up vs MAC ceiling, SD 1.5 full width, CFG, PLMS (256², 50 steps; --quick: 10 steps)',
  async run(args, log) {
    const report = await runDeepCacheBench({
      side: args.size ?? (args.quick ? 128 : 256),
      steps: args.steps ?? (args.quick ? 10 : 50),
      provider: args.provider,
      threads: args.threads,
      callRounds: args.rounds ?? (args.quick ? 2 : 5),
      repeats: args.repeats ?? 2,
      fp16: args.fp16,
      log,
    });
    const headline = deepcacheHeadline(report);
    const dir = process.env.BENCH_RESULTS_DIR ?? RESULTS_DIR;
    const png = path.join(dir, 'deepcache-latest.png');
    const stamped = path.join(dir, `deepcache-${fileTimestamp()}.png`);
    const title = `DeepCache, SD 1.5 full width, ${report.side}², PLMS ${report.steps} steps, ${report.machine.provider} (${report.machine.cores} cores)`;
    await writePng(
      deepcacheSvg(
        report.cases.map((c) => ({
          interval: c.case.interval,
          branch: c.case.branch,
          schedule: c.case.schedule,
          measured: c.unetSpeedup,
          ceiling: c.ceilingWithAttention,
        })),
        title,
      ),
      png,
    );
    await copyFile(png, stamped);
    return {
      text: deepcacheTables(report),
      payload: { report, headline },
      headline: headline as unknown as Record<string, unknown>,
      files: [png, stamped],
    };
  },
};
