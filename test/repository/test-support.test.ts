/**
 * Test support stays test support: no production, local-stack, benchmark or infrastructure file imports from
 * `test/support/` (only test files do, and the test trees under `test/`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const supportRoot = path.join(repoRoot, 'test/support');

/** Relative module specifiers of `import … from '…'`, `export … from '…'` and `import('…')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** The files of `file`'s text that resolve into `test/support/`. */
function supportImports(file: string, text: string): string[] {
  const dir = path.dirname(path.join(repoRoot, file));
  return [...text.matchAll(SPECIFIER)]
    .map((m) => m[1]!)
    .filter((spec) => {
      const relative = path.relative(supportRoot, path.resolve(dir, spec));
      return !relative.startsWith('..') && !path.isAbsolute(relative);
    });
}

const codeFiles = execFileSync('git', ['ls-files', '-z', '--', 'edge', 'gpu-backend', 'shared', 'scripts', 'bench', 'infra'], {
  cwd: repoRoot,
  encoding: 'utf8',
})
  .split('\0')
  .filter((f) => /\.[cm]?ts$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'));

describe('test support', () => {
  it('recognises an import of test support (positive control)', () => {
    // spelled in pieces: the self-containment check reads this file's relative literals against this file's folder
    const intoSupport = ['..', '..', '..', 'test', 'support', 'synthetic.js'].join('/');
    expect(supportImports('gpu-backend/src/synthetic/unet.ts', `import { meanStd } from '${intoSupport}';`)).toHaveLength(1);
    expect(supportImports('gpu-backend/src/synthetic/unet.ts', "import { fillNormal } from './random.js';")).toHaveLength(0);
  });

  it('is imported by no production, stack, benchmark or infrastructure file', () => {
    expect(codeFiles.length).toBeGreaterThan(100);
    const offenders = codeFiles.flatMap((f) => supportImports(f, readFileSync(path.join(repoRoot, f), 'utf8')).map((s) => `${f}: ${s}`));
    expect(offenders).toEqual([]);
  });
});
