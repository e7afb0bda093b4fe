/**
 * The repository stands on its own: a user clones only this repository, so no code, test, script, benchmark or
 * configuration may reach the reference material that sits beside the development checkout (`../shared`).
 * Every tracked text file is searched for a relative path that resolves outside the repository, and for the
 * reference folder's own names.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '../..');

/** Files whose text can name a path the program, tests or tools open (docs are prose and may quote history). */
const CODE_FILE = /\.(?:[cm]?[jt]s|json|toml|ya?ml|sh|html)$|(?:^|\/)(?:Dockerfile[^/]*|run)$/;

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  // this file spells the forbidden paths out for its positive control
  .filter((f) => f && CODE_FILE.test(f) && !f.startsWith('test/fixtures/') && f !== 'package-lock.json')
  .filter((f) => path.join(repoRoot, f) !== thisFile);

/** String literals that start as a relative path: `'../x'`, `"./x"`, `` `../x` ``. */
const RELATIVE_LITERAL = /["'`]((?:\.\.?\/)+[^"'`\s$]*)/g;

/** The names of the reference folder's contents, which no file of ours has. */
const REFERENCE_NAMES = /shared\/(?:fixtures|hooks|DESIGN\.md|TOOLCHAIN\.md|STYLE\.md)/;

function outsideRepository(file: string, literal: string): boolean {
  const resolved = path.resolve(repoRoot, path.dirname(file), literal);
  return path.relative(repoRoot, resolved).startsWith('..');
}

describe('the repository is self-contained', () => {
  it('tracks the files it searches', () => {
    expect(tracked.length).toBeGreaterThan(100);
    expect(tracked).toContain('gpu-backend/src/synthetic/model-directory.ts');
  });

  it('finds an escaping path when one is there (positive control)', () => {
    expect(outsideRepository('gpu-backend/src/synthetic/model-directory.ts', '../../../../shared/x')).toBe(true);
    expect(outsideRepository('gpu-backend/src/synthetic/model-directory.ts', '../../../shared/models.js')).toBe(false);
    const reference = ['..', 'shared', 'fixtures'].join('/');
    expect(REFERENCE_NAMES.test(`path.resolve(repoRoot, '${reference}')`)).toBe(true);
  });

  it('no tracked file names a path outside the repository or the reference folder beside it', () => {
    const offenders: string[] = [];
    for (const file of tracked) {
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      text.split('\n').forEach((line, i) => {
        if (REFERENCE_NAMES.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        for (const m of line.matchAll(RELATIVE_LITERAL)) {
          if (outsideRepository(file, m[1]!)) offenders.push(`${file}:${i + 1}: ${m[1]}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });
});
