import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { backendBundleOptions, backendManifest, externalsMissingFromProduction, packageNameOf } from './backend-bundle.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readDependencies = async () =>
  (JSON.parse(await readFile(path.join(repoRoot, backendManifest), 'utf8')) as { dependencies: Record<string, string> }).dependencies;

describe('backend bundle', () => {
  it('names the package of scoped and deep imports', () => {
    expect(packageNameOf('@aws-sdk/client-s3')).toBe('@aws-sdk/client-s3');
    expect(packageNameOf('@hono/node-server/serve-static')).toBe('@hono/node-server');
    expect(packageNameOf('zod/v4')).toBe('zod');
  });

  it('flags a development-only package imported by bundled code, and accepts built-ins and production deps', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bundle-'));
    try {
      const entry = path.join(dir, 'entry.ts');
      await writeFile(
        entry,
        [
          "import { Hono } from 'hono';",
          "import { readFile } from 'node:fs/promises';",
          "import { createHash } from 'crypto';",
          "import { parse } from 'yaml';",
          'export const x = [Hono, readFile, createHash, parse];',
        ].join('\n'),
      );
      const result = await build({ ...backendBundleOptions(repoRoot, path.join(dir, 'out.mjs')), entryPoints: [entry], write: false });
      expect(externalsMissingFromProduction(result.metafile!, await readDependencies())).toEqual(['yaml']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bundles the real service entry with production dependencies only', async () => {
    const result = await build({ ...backendBundleOptions(repoRoot, path.join(tmpdir(), 'gpu-backend.mjs')), write: false });
    expect(result.errors).toEqual([]);
    expect(externalsMissingFromProduction(result.metafile!, await readDependencies())).toEqual([]);
  });
});
