import { existsSync } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchModelName, ensureBenchModel } from './bench-models.js';

describe('ensureBenchModel', () => {
  let root = '';
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('builds a model directory once, reuses it, and rebuilds it when the completion marker is missing', async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'bench-models-'));
    const spec = { arch: 'sd15', scale: 'tiny' } as const;
    const first = await ensureBenchModel(spec, root);
    expect(first.built).toBe(true);
    expect(first.dir).toBe(path.join(root, benchModelName(spec)));
    expect(existsSync(path.join(first.dir, 'unet/model.onnx'))).toBe(true);
    const second = await ensureBenchModel(spec, root);
    expect(second).toMatchObject({ built: false, buildMs: 0, dir: first.dir });
    await unlink(path.join(first.dir, '.complete.json'));
    expect((await ensureBenchModel(spec, root)).built).toBe(true);
  });

  it('names folders by architecture, scale, precision and seed', () => {
    expect(benchModelName({ arch: 'sdxl', scale: 'full', fp16: true, seed: 3 })).toBe('sdxl-full-fp16-s3');
  });
});
