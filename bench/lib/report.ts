/**
 * Benchmark output: JSON result files (`bench/results/<name>-<timestamp>.json` and `<name>-latest.json`) and
 * plain-text tables for stdout.
 * @module
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../bench-models.js';

/** Default results folder. */
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/** Files a result was written to. */
export interface WrittenResult {
  readonly file: string;
  readonly latest: string;
}

/** `2025-01-31T12-34-56Z`: an ISO time usable in file names. */
export function fileTimestamp(d: Date = new Date()): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

/**
 * Writes a benchmark result as `<name>-<timestamp>.json` and `<name>-latest.json` (atomically each).
 * @param dir results folder (default {@link RESULTS_DIR}; `BENCH_RESULTS_DIR` env var overrides)
 */
export async function writeResult(
  name: string,
  payload: unknown,
  dir: string = process.env.BENCH_RESULTS_DIR ?? RESULTS_DIR,
): Promise<WrittenResult> {
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(payload, null, 2)}\n`;
  const file = path.join(dir, `${name}-${fileTimestamp()}.json`);
  const latest = path.join(dir, `${name}-latest.json`);
  for (const target of [file, latest]) {
    const tmp = `${target}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, target);
  }
  return { file, latest };
}

/** A column of a text table: header and alignment. */
export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/**
 * Formats rows as a fixed-width text table (also valid GitHub markdown).
 * @throws RangeError when a row's length differs from the column count
 */
export function formatTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  for (const r of rows) if (r.length !== columns.length) throw new RangeError(`row has ${r.length} cells, table ${columns.length} columns`);
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => r[i]!.length)));
  const pad = (s: string, i: number) => (columns[i]!.align === 'left' ? s.padEnd(widths[i]!) : s.padStart(widths[i]!));
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (columns[i]!.align === 'left' ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n');
}

/** `1.234` → `"1.23"`; null/undefined/NaN → `"–"`. */
export function fmt(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}
