/**
 * Build step of the production image: bundles the backend and refuses to produce an image whose code
 * imports a package that the backend workspace's production install would not hold.
 *
 * Usage (repository root): `node --import tsx infra/docker/bundle-backend.ts <outfile>`
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { backendBundleOptions, backendManifest, externalsMissingFromProduction } from './backend-bundle.js';

const outfile = process.argv[2];
if (outfile === undefined) {
  console.error('usage: bundle-backend.ts <outfile>');
  process.exit(2);
}
const repoRoot = process.cwd();
const result = await build(backendBundleOptions(repoRoot, path.resolve(outfile)));
const pkg = JSON.parse(await readFile(path.join(repoRoot, backendManifest), 'utf8')) as {
  dependencies?: Record<string, string>;
};
const missing = externalsMissingFromProduction(result.metafile!, pkg.dependencies ?? {});
if (missing.length > 0) {
  console.error(`the backend imports packages that are not production dependencies: ${missing.join(', ')}`);
  process.exit(1);
}
console.log(`bundled ${path.relative(repoRoot, path.resolve(outfile))}`);
