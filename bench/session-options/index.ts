/**
 * `bench session-options`: single-call medians of the full SD 1.5 U-Net graph and its branch-0 shallow graph
 * (256², batch 2) under each session-option variant, one variant at a time (each loads the weights once).
 * Feeds an own onnxruntime session per variant; the feature comes from that variant's full graph.
 * @module
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { readModelDirectory } from '../../gpu-backend/src/models/model-directory.js';
import { DeepCacheGraphs } from '../../gpu-backend/src/pipeline/deepcache-graphs.js';
import { unetFeeds } from '../../gpu-backend/src/synthetic/unet-feeds.js';
import { ensureBenchModel } from '../bench-models.js';
import type { Benchmark } from '../lib/benchmark.js';
import { machineInfo, machineLine } from '../lib/machine.js';
import { fmt, formatTable } from '../lib/report.js';
import { median, round } from '../lib/stats.js';
import { VARIANTS } from './variants.js';

async function timeCalls(run: () => Promise<unknown>, n: number): Promise<number[]> {
  await run();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    out.push(performance.now() - t0);
  }
  return out;
}

export const sessionOptionsBenchmark: Benchmark = {
  name: 'session-options',
  describe: 'onnxruntime session options (optimisation level, threads, arena, memory pattern, parallel) on full + shallow-0 U-Net calls',
  async run(args, log) {
    const side = args.size ?? 256;
    const fullRounds = args.rounds ?? (args.quick ? 2 : 3);
    const shallowRounds = fullRounds * 3;
    const model = await ensureBenchModel({ arch: 'sd15', scale: 'full' });
    // graph files prepared by the project's code path; sessions from their bytes with the U-Net folder as the
    // external-data folder, as the pipeline creates them
    const desc = await readModelDirectory(model.dir);
    const graphs = await DeepCacheGraphs.open({ unetPath: desc.components.unet.model, fingerprint: desc.unetFingerprint.key });
    const fullBytes = await readFile(graphs.fullPath);
    const shallowBytes = await readFile(await graphs.shallowPath(0));
    const externalDir = graphs.weightsDir;
    const feeds = unetFeeds({ batch: 2, height: side / 8, width: side / 8, contextDim: 768 }, 500, 0);
    const rows: Array<{
      name: string;
      change: string;
      load_s: number;
      full_ms: number;
      shallow0_ms: number;
      full_samples: number[];
      shallow_samples: number[];
    }> = [];
    for (const v of VARIANTS) {
      const t0 = performance.now();
      const opts = v.options(args.provider, args.threads);
      // merged into the variant's own `extra.session` entries (e.g. allow_spinning), not over them
      const extra = (opts.extra ?? {}) as { session?: Record<string, unknown> };
      const withExternal = {
        ...opts,
        extra: { ...extra, session: { ...extra.session, model_external_initializers_file_folder_path: externalDir } },
      };
      const full = await ort.InferenceSession.create(fullBytes, withExternal);
      const shallow = await ort.InferenceSession.create(shallowBytes, withExternal);
      const loadS = (performance.now() - t0) / 1000;
      try {
        const feature = (await full.run(feeds, ['out_sample', 'deepcache_feature_0'])).deepcache_feature_0!;
        const shallowFeeds: Record<string, ort.Tensor> = { deepcache_feature: feature };
        for (const name of shallow.inputNames) if (name !== 'deepcache_feature') shallowFeeds[name] = feeds[name]!;
        const fullSamples = await timeCalls(() => full.run(feeds, ['out_sample']), fullRounds);
        const shallowSamples = await timeCalls(() => shallow.run(shallowFeeds), shallowRounds);
        rows.push({
          name: v.name,
          change: v.change,
          load_s: loadS,
          full_ms: median(fullSamples),
          shallow0_ms: median(shallowSamples),
          full_samples: fullSamples,
          shallow_samples: shallowSamples,
        });
        log(`${v.name}: full ${fmt(median(fullSamples), 0)} ms, shallow-0 ${fmt(median(shallowSamples), 0)} ms (load ${fmt(loadS, 1)} s)`);
      } finally {
        await Promise.all([full.release(), shallow.release()]);
      }
    }
    const machine = machineInfo(args.provider, args.threads);
    const base = rows[0]!;
    const headline = {
      provider: args.provider,
      width: side,
      height: side,
      results: rows.map((r) => ({
        variant: r.name,
        full_ms: round(r.full_ms, 0),
        shallow0_ms: round(r.shallow0_ms, 0),
        load_s: round(r.load_s, 1),
      })),
    };
    const text = [
      `session options: SD 1.5 full width, ${side}², batch 2; medians of ${fullRounds} full / ${shallowRounds} shallow-0 calls after one warm-up`,
      `machine: ${machineLine(machine)}`,
      formatTable(
        [
          { header: 'variant', align: 'left' },
          { header: 'change', align: 'left' },
          { header: 'load s' },
          { header: 'full ms' },
          { header: 'vs current' },
          { header: 'shallow-0 ms' },
          { header: 'vs current' },
        ],
        rows.map((r) => [
          r.name,
          r.change,
          fmt(r.load_s, 1),
          fmt(r.full_ms, 0),
          `${fmt(r.full_ms / base.full_ms)}×`,
          fmt(r.shallow0_ms, 0),
          `${fmt(r.shallow0_ms / base.shallow0_ms)}×`,
        ]),
      ),
    ].join('\n');
    return { text, payload: { machine, rows, headline }, headline };
  },
};
