/**
 * Reading the reference fixtures' tensor JSON (`{dtype, shape, data}`, row-major) into `{ data, dims }`, and the
 * fixture folders' location (`test/fixtures` in this repository).
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The repository root (two folders above `test/support`). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The reference fixtures kept in this repository (`test/fixtures`, described by its README). */
export const fixturesRoot = path.resolve(repoRoot, 'test/fixtures');

/** The tensor JSON format of the fixtures. */
export const FixtureTensorJson = z.object({
  dtype: z.enum(['float32', 'uint8', 'int64', 'float64']),
  shape: z.array(z.number().int().nonnegative()),
  data: z.array(z.number()),
});
export type FixtureTensorJson = z.infer<typeof FixtureTensorJson>;

/** A fixture tensor as float32: `data.length === product(dims)`. */
export interface FixtureTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/**
 * Converts one fixture tensor JSON value (float32 data reproduces the exact bits).
 * @throws ZodError for a malformed value; RangeError when data length and shape disagree
 */
export function fixtureTensor(json: unknown): FixtureTensor {
  const t = FixtureTensorJson.parse(json);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new RangeError(`fixture tensor has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  return { data: Float32Array.from(t.data), dims: t.shape };
}

/** Absolute path of a fixture folder under `test/fixtures`, e.g. `fixtureDir('deepcache-sd15-tiny')`. */
export function fixtureDir(fixture: string): string {
  return path.join(fixturesRoot, fixture);
}

/**
 * Reads and parses a JSON file of a fixture folder, validated by `schema` when one is given, e.g.
 * `readFixtureJson('deepcache-sd15-tiny', 'reference/manifest.json')`.
 * @param fixture a folder name under `test/fixtures`, or the folder's absolute path
 * @throws ZodError when the file does not match `schema`
 */
export function readFixtureJson(fixture: string, relativePath: string): unknown;
export function readFixtureJson<S extends z.ZodType>(fixture: string, relativePath: string, schema: S): z.infer<S>;
export function readFixtureJson(fixture: string, relativePath: string, schema?: z.ZodType): unknown {
  const json: unknown = JSON.parse(readFileSync(path.resolve(fixturesRoot, fixture, relativePath), 'utf8'));
  return schema === undefined ? json : schema.parse(json);
}

/** Path of a file inside a fixture folder. */
export function fixturePath(fixture: string, relativePath: string): string {
  return path.join(fixturesRoot, fixture, relativePath);
}
