/**
 * Benchmark runner: `npx tsx bench/main.ts <name> [--quick] [--size N] [--steps N] [--provider cpu|cuda|webgpu]
 * [--threads N] [--rounds N] [--repeats N] [--fp16]`. Writes `bench/results/<name>-<timestamp>.json` and `<name>-latest.json`, prints the
 * tables, and prints the headline JSON object as the last stdout line. Progress goes to stderr.
 * `PROVIDER` and `BENCH_THREADS` env vars set the provider and threads when the flags are absent.
 * @module
 */
import { parseArgs } from 'node:util';
import { BenchArgs, type Benchmark } from './lib/benchmark.js';
import { writeResult } from './lib/report.js';
import { batchingBenchmark } from './batching/index.js';
import { ceilingBenchmark } from './ceiling/index.js';
import { deepcacheBenchmark } from './deepcache/index.js';
import { memoryBenchmark } from './memory/index.js';
import { servingBenchmark } from './serving/index.js';
import { sessionOptionsBenchmark } from './session-options/index.js';
import { img2imgBenchmark } from './img2img/index.js';
import { fleetBenchmark } from './fleet/index.js';

const benchmarks: Record<string, Benchmark> = Object.fromEntries(
  [
    deepcacheBenchmark,
    ceilingBenchmark,
    batchingBenchmark,
    memoryBenchmark,
    sessionOptionsBenchmark,
    servingBenchmark,
    img2imgBenchmark,
    fleetBenchmark,
  ].map((b) => [b.name, b]),
);

function usage(): string {
  return [
    'usage: npx tsx bench/main.ts <name> [--quick] [--size N] [--steps N] [--provider cpu|cuda|webgpu] [--threads N] [--rounds N] [--repeats N] [--fp16]',
    '',
    ...Object.values(benchmarks).map((b) => `  ${b.name.padEnd(16)} ${b.describe}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: 'boolean' },
      size: { type: 'string' },
      steps: { type: 'string' },
      provider: { type: 'string' },
      threads: { type: 'string' },
      rounds: { type: 'string' },
      repeats: { type: 'string' },
      fp16: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const name = positionals[0];
  if (values.help || !name) {
    console.log(usage());
    return name || values.help ? 0 : 2;
  }
  const bench = benchmarks[name];
  if (!bench) {
    console.error(`unknown benchmark ${name}\n${usage()}`);
    return 2;
  }
  const { help: _help, ...flags } = values;
  const args = BenchArgs.parse({
    ...flags,
    provider: values.provider ?? process.env.PROVIDER ?? undefined,
    threads: values.threads ?? process.env.BENCH_THREADS ?? undefined,
  });
  const t0 = performance.now();
  const out = await bench.run(args, (line) => console.error(`[${name} ${((performance.now() - t0) / 1000).toFixed(0)} s] ${line}`));
  const wallS = Math.round((performance.now() - t0) / 100) / 10;
  const written = await writeResult(name, {
    benchmark: name,
    args,
    wall_s: wallS,
    finished_at: new Date().toISOString(),
    ...(out.payload as object),
  });
  console.log(out.text);
  console.log('');
  console.log(`results: ${written.file} (and ${written.latest})${out.files?.length ? `; ${out.files.join(', ')}` : ''}; wall ${wallS} s`);
  console.log(JSON.stringify({ ...out.headline, quick: args.quick, wall_s: wallS }));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
