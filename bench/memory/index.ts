/**
 * `bench memory`: resident memory of the backend's model stack vs model size, without and with DeepCache graphs,
 * each configuration in a fresh child process (so the numbers do not mix): a bare U-Net session, the pipeline
 * without shallow graphs, with branch 0, and with branches 0, 1 and 3. Models: tiny SD 1.5, tiny SDXL, full SD 1.5.
 * @module
 */
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureBenchModel, REPO_ROOT, type BenchModelSpec } from '../bench-models.js';
import type { Benchmark } from '../lib/benchmark.js';
import { machineInfo, machineLine } from '../lib/machine.js';
import { fmt, formatTable } from '../lib/report.js';
import { round } from '../lib/stats.js';

const run = promisify(execFile);
const MODES = ['session', 'pipeline', 'pipeline+b0', 'pipeline+b0,1,3'] as const;

/** Bytes of the ONNX graphs and weights of a model directory (text encoders, U-Net, VAE; the DeepCache cache excluded). */
async function modelBytes(dir: string): Promise<{ total: number; unet: number }> {
  let total = 0,
    unet = 0;
  for (const sub of await readdir(dir)) {
    const folder = path.join(dir, sub);
    if (!(await stat(folder)).isDirectory()) continue;
    for (const f of await readdir(folder)) {
      if (!/\.onnx(_data)?$|\.pb$/.test(f)) continue;
      const size = (await stat(path.join(folder, f))).size;
      total += size;
      if (sub === 'unet') unet += size;
    }
  }
  return { total, unet };
}

interface ChildResult {
  mode: string;
  base_rss_mib: number;
  loaded_rss_mib: number;
  peak_rss_mib: number;
  load_ms: number;
}

export const memoryBenchmark: Benchmark = {
  name: 'memory',
  describe: 'RSS vs model size with and without DeepCache graphs (child processes; tiny SD 1.5, tiny SDXL, full SD 1.5)',
  async run(args, log) {
    const side = args.size ?? 256;
    const steps = args.steps ?? 3;
    const specs: BenchModelSpec[] = [
      { arch: 'sd15', scale: 'tiny' },
      { arch: 'sdxl', scale: 'tiny' },
      { arch: 'sd15', scale: 'full' },
    ];
    const rows: Array<{ model: string; model_mib: number; unet_mib: number; mode: string } & ChildResult> = [];
    for (const spec of specs) {
      const model = await ensureBenchModel(spec);
      const bytes = await modelBytes(model.dir);
      const modes = args.quick && spec.scale === 'full' ? (['pipeline', 'pipeline+b0'] as const) : MODES;
      for (const mode of modes) {
        const { stdout } = await run(
          process.execPath,
          [
            '--import',
            'tsx',
            path.join(REPO_ROOT, 'bench/memory/child.ts'),
            model.dir,
            mode,
            String(side),
            String(steps),
            args.provider,
            String(args.threads),
          ],
          { cwd: REPO_ROOT, maxBuffer: 1 << 24 },
        );
        const last = stdout.trim().split('\n').at(-1)!;
        const r = JSON.parse(last) as ChildResult;
        const name = `${spec.arch}-${spec.scale}`;
        rows.push({ model: name, model_mib: bytes.total / 2 ** 20, unet_mib: bytes.unet / 2 ** 20, ...r, mode });
        log(`${name} ${mode}: loaded ${fmt(r.loaded_rss_mib, 0)} MiB, peak ${fmt(r.peak_rss_mib, 0)} MiB`);
      }
    }
    const machine = machineInfo(args.provider, args.threads);
    const headline = {
      provider: args.provider,
      width: side,
      height: side,
      steps,
      results: rows.map((r) => ({
        model: r.model,
        model_mib: round(r.model_mib, 0),
        mode: r.mode,
        loaded_rss_mib: round(r.loaded_rss_mib, 0),
        peak_rss_mib: round(r.peak_rss_mib, 0),
      })),
    };
    const text = [
      `memory: one child process per row; ${side}², CFG, ${steps} PLMS steps per image; RSS after loading and peak RSS after the images`,
      `machine: ${machineLine(machine)}`,
      formatTable(
        [
          { header: 'model', align: 'left' },
          { header: 'files MiB' },
          { header: 'U-Net MiB' },
          { header: 'mode', align: 'left' },
          { header: 'RSS loaded MiB' },
          { header: 'peak RSS MiB' },
          { header: 'peak / files' },
          { header: 'load s' },
        ],
        rows.map((r) => [
          r.model,
          fmt(r.model_mib, 0),
          fmt(r.unet_mib, 0),
          r.mode,
          fmt(r.loaded_rss_mib, 0),
          fmt(r.peak_rss_mib, 0),
          fmt(r.peak_rss_mib / r.model_mib),
          fmt(r.load_ms / 1000, 1),
        ]),
      ),
      'session = one onnxruntime session of unet/model.onnx + one U-Net call; pipeline = loadPipeline (text encoder, U-Net full graph,',
      'VAE) + one image; +bN = shallow graphs of those branches loaded and one DeepCache image (I3) per branch.',
    ].join('\n');
    return { text, payload: { machine, rows, headline }, headline };
  },
};
