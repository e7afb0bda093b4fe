/**
 * The contract of one benchmark: parsed common options in, a readable text, the full JSON payload and the
 * headline object out. `bench/main.ts` writes the payload to `bench/results/` and prints the headline last.
 * @module
 */
import { z } from 'zod';

/** Execution providers a benchmark can ask onnxruntime for. */
export const Provider = z.enum(['cpu', 'cuda', 'webgpu']);
export type Provider = z.infer<typeof Provider>;

const intArg = z.coerce.number().int().positive();

/** Options shared by every benchmark (`--quick`, `--size`, `--steps`, `--provider`, `--threads`, `--rounds`, `--repeats`, `--fp16`). */
export const BenchArgs = z.strictObject({
  quick: z.boolean().default(false),
  size: intArg.optional(),
  steps: intArg.optional(),
  provider: Provider.default('cpu'),
  /** Intra-op threads; 0 = onnxruntime's default (one per physical core). */
  threads: z.coerce.number().int().min(0).default(0),
  rounds: intArg.optional(),
  /** Rounds of whole runs (benchmarks that repeat whole configurations). */
  repeats: intArg.optional(),
  /** Use the fp16 synthetic model (GPU providers; CPU kernels for fp16 are few and slow). */
  fp16: z.boolean().default(false),
});
export type BenchArgs = z.infer<typeof BenchArgs>;

/** What a benchmark returns. */
export interface BenchOutput {
  /** Tables for stdout. */
  readonly text: string;
  /** Everything measured (written to the results file). */
  readonly payload: unknown;
  /** The headline figures (the last stdout line). */
  readonly headline: Record<string, unknown>;
  /** Extra files written (e.g. the chart). */
  readonly files?: readonly string[];
}

/** One benchmark. */
export interface Benchmark {
  readonly name: string;
  readonly describe: string;
  run(args: BenchArgs, log: (line: string) => void): Promise<BenchOutput>;
}
