import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileTimestamp, fmt, formatTable, writeResult } from './report.js';

describe('formatTable', () => {
  it('pads cells to the widest entry of each column and marks alignment in the rule', () => {
    const text = formatTable(
      [{ header: 'name', align: 'left' }, { header: 'x' }],
      [
        ['a', '1.00'],
        ['bbbbb', '10.00'],
      ],
    );
    expect(text.split('\n')).toEqual(['| name  |     x |', '|:------|------:|', '| a     |  1.00 |', '| bbbbb | 10.00 |']);
  });
  it('refuses a row with the wrong number of cells', () => {
    expect(() => formatTable([{ header: 'a' }], [['1', '2']])).toThrow(RangeError);
  });
});

describe('fmt and fileTimestamp', () => {
  it('prints a dash for missing numbers', () => {
    expect(fmt(Number.NaN)).toBe('–');
    expect(fmt(null)).toBe('–');
    expect(fmt(2.345, 1)).toBe('2.3');
  });
  it('makes a timestamp without colons or milliseconds', () => {
    expect(fileTimestamp(new Date('2025-01-31T12:34:56.789Z'))).toBe('2025-01-31T12-34-56Z');
  });
});

describe('writeResult', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  it('writes the same JSON to a timestamped file and to <name>-latest.json', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bench-results-'));
    const { file, latest } = await writeResult('demo', { a: 1 }, dir);
    expect(path.basename(latest)).toBe('demo-latest.json');
    expect(path.basename(file)).toMatch(/^demo-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ a: 1 });
    expect(await readFile(latest, 'utf8')).toBe(await readFile(file, 'utf8'));
    expect((await readdir(dir)).sort()).toEqual([path.basename(file), 'demo-latest.json'].sort());
  });
});
