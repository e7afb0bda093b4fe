import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubTestServer } from '../../../test/support/models/hub-server.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bpe = path.resolve(repoRoot, 'gpu-backend/src/tokenizer/vocab/bpe_simple_vocab_16e6.txt.gz');

/** Runs the cli as a child process (the pinned Node with tsx), returning exit code, stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'gpu-backend/src/cli/main.ts', ...args], {
      cwd: repoRoot,
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('cli tokenize', () => {
  it('prints CLIP ids and the 77 padded input ids as JSON', async () => {
    const r = await cli('tokenize', '--tokenizer', bpe, '--json', 'a photo of a cat');
    expect(r.code).toBe(0);
    const out = lastJson(r.stdout);
    expect(out.ids).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(out.input_ids).toHaveLength(77);
    expect(out.input_ids.at(-1)).toBe(49407);
  });

  it('exits 2 with the usage on an unknown option', async () => {
    const r = await cli('tokenize', '--tokenizer', bpe, '--bogus', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: tokenize');
  });
});

describe('cli macs', () => {
  it("reports the full-width SD 1.5 U-Net at 512² as the paper's 338.8 GMACs, shallow MACs growing with the branch", async () => {
    const r = await cli('macs', '--arch', 'sd15', '--scale', 'full', '--height', '512', '--width', '512', '--json');
    expect(r.code).toBe(0);
    const out = lastJson(r.stdout);
    expect(Math.abs(out.full_gmacs - 338.8) / 338.8).toBeLessThan(0.01);
    const shallow = Object.keys(out.shallow_gmacs).map((b) => out.shallow_gmacs[b] as number);
    expect(shallow).toHaveLength(12);
    shallow.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(shallow[i]!));
    expect(shallow.at(-1)).toBeLessThan(out.full_gmacs);
  });
});

describe('cli make-model, split and generate on a tiny synthetic model', () => {
  let model: string;
  beforeAll(async () => {
    model = path.join(work, 'tiny-sd15');
    const r = await cli('make-model', '--arch', 'sd15', '--scale', 'tiny', '--out', model, '--json');
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('writes the same image bytes twice for the same seed and settings, with step counts and timings', async () => {
    const args = [
      'generate',
      '--model',
      model,
      '--prompt',
      'a red fox',
      '--width',
      '128',
      '--height',
      '64',
      '--steps',
      '6',
      '--seed',
      '5',
      '--cache-interval',
      '3',
      '--cache-branch',
      '2',
    ];
    const a = await cli(...args, '--out', path.join(work, 'a.png'), '--json');
    const b = await cli(...args, '--out', path.join(work, 'b.png'), '--json');
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const out = lastJson(a.stdout);
    expect(out).toMatchObject({ width: 128, height: 64, seed: 5, unet_full_steps: 2, unet_shallow_steps: 4, provider: 'cpu' });
    expect(Object.keys(out.timings_ms)).toEqual(
      expect.arrayContaining(['load', 'encode_prompt', 'denoise', 'decode', 'encode_image', 'total']),
    );
    expect(a.stderr).toContain('step 6/6');
    const [pa, pb] = await Promise.all([readFile(path.join(work, 'a.png')), readFile(path.join(work, 'b.png'))]);
    expect(pa.equals(pb)).toBe(true);
    expect(await sharp(pa).metadata()).toMatchObject({ format: 'png', width: 128, height: 64 });
  }, 120_000);

  it('writes WebP by extension, and runs every step full without DeepCache', async () => {
    const r = await cli(
      'generate',
      '--model',
      model,
      '--prompt',
      'x',
      '--width',
      '64',
      '--height',
      '64',
      '--steps',
      '3',
      '--no-deepcache',
      '--out',
      path.join(work, 'c.webp'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ unet_full_steps: 3, unet_shallow_steps: 0 });
    expect((await sharp(path.join(work, 'c.webp')).metadata()).format).toBe('webp');
  }, 120_000);

  it('splits a U-Net into full and shallow graphs that load in onnxruntime', async () => {
    const out = path.join(work, 'split');
    const r = await cli('split', '--unet', path.join(model, 'unet/model.onnx'), '--branch', '4', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ branch: 4, branch_count: 12, found_by: 'name' });
    const shallow = await ort.InferenceSession.create(path.join(out, 'shallow.onnx'));
    expect(shallow.inputNames).toContain('deepcache_feature');
    const full = await ort.InferenceSession.create(path.join(out, 'full.onnx'));
    expect(full.outputNames).toContain('deepcache_feature');
    await Promise.all([shallow.release(), full.release()]);
  }, 120_000);

  it('refuses a branch outside the model range with a clear message', async () => {
    const r = await cli('split', '--unet', path.join(model, 'unet/model.onnx'), '--branch', '12', '--out', path.join(work, 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('branches 0–11');
  }, 60_000);
});

describe('cli pull', () => {
  it('downloads the pipeline files of a Hub repository into the cache', async () => {
    const files = new Map<string, Buffer>([
      ['model_index.json', Buffer.from('{"_class_name":"ORTStableDiffusionPipeline"}')],
      ['unet/model.onnx', Buffer.alloc(5000, 7)],
      ['unet/diffusion_pytorch_model.safetensors', Buffer.alloc(100, 1)],
    ]);
    const hub = await startHubTestServer({ repo: 'acme/tiny', revision: 'onnx', files, lfs: (p) => p.endsWith('.onnx') });
    try {
      const cache = path.join(work, 'cache');
      const r = await cli('pull', 'acme/tiny', '--revision', 'onnx', '--cache', cache, '--hub-url', hub.url, '--json');
      expect(r.code, r.stderr).toBe(0);
      const out = lastJson(r.stdout);
      expect(out).toMatchObject({ files: 2, downloaded: 2 });
      expect((await stat(path.join(out.dir, 'unet/model.onnx'))).size).toBe(5000);
      await expect(stat(path.join(out.dir, 'unet/diffusion_pytorch_model.safetensors'))).rejects.toThrow();
    } finally {
      await hub.close();
    }
  }, 60_000);
});
