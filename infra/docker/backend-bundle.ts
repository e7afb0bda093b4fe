/**
 * How the production image turns the backend's TypeScript into one ESM file.
 *
 * Only the project's own code (`gpu-backend/src/**`, `shared/**`) is bundled; every npm package stays
 * external and is loaded from the image's `node_modules`, which holds production dependencies only
 * (`npm ci --omit=dev -w @image-api/gpu-backend`). The Dockerfile runs `bundle-backend.ts` with these options, and
 * `backend-bundle.test.ts` runs the same options on the real entry point.
 * @module
 */
import { builtinModules } from 'node:module';
import path from 'node:path';
import type { BuildOptions, Metafile } from 'esbuild';

/** The service entry point, relative to the repository root. */
const backendEntry = 'gpu-backend/src/main.ts';

/** The backend workspace's manifest: its `dependencies` are all the production image installs. */
export const backendManifest = 'gpu-backend/package.json';

/** esbuild options for the backend bundle (ESM, Node 22, packages external, source maps linked). */
export function backendBundleOptions(repoRoot: string, outfile: string): BuildOptions {
  return {
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, backendEntry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  };
}

/** npm package name of a bare import (`@scope/name/sub` → `@scope/name`, `name/sub` → `name`). */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The external imports of a bundle that would fail in the production image: packages that are not
 * production `dependencies` of the backend workspace (Node built-ins are fine).
 */
export function externalsMissingFromProduction(metafile: Metafile, dependencies: Record<string, string>): string[] {
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external) continue;
      const spec = imp.path;
      if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(packageNameOf(spec))) continue;
      const name = packageNameOf(spec);
      if (!(name in dependencies)) missing.add(name);
    }
  }
  return [...missing].sort();
}
