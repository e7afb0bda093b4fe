import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubTestServer, type HubTestServer } from '../../../test/support/models/hub-server.js';
import { selectPullFiles } from './pull-files.js';
import { PullError, pullModel, type PullProgress } from './pull.js';

const REPO = 'acme/sd-tiny-onnx';
const REVISION = 'onnx';
const TOKEN = 'hf_testtoken';

const json = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/** A synthetic ONNX SD repository: configs, random "graphs", and files the pull must skip. */
function repoFiles(): Map<string, Buffer> {
  return new Map<string, Buffer>([
    ['model_index.json', json({ _class_name: 'ORTStableDiffusionPipeline', unet: ['diffusers', 'OnnxRuntimeModel'] })],
    ['README.md', Buffer.from('# tiny\n')],
    ['.gitattributes', Buffer.from('*.onnx filter=lfs\n')],
    ['scheduler/scheduler_config.json', json({ _class_name: 'PNDMScheduler' })],
    ['tokenizer/vocab.json', json({ a: 0 })],
    ['tokenizer/merges.txt', Buffer.from('#version: 0.2\na b\n')],
    ['text_encoder/model.onnx', randomBytes(20_000)],
    ['text_encoder/config.json', json({ hidden_size: 768 })],
    ['text_encoder/pytorch_model.bin', randomBytes(3_000)],
    ['unet/model.onnx', randomBytes(30_000)],
    ['unet/model.onnx_data', randomBytes(400_000)],
    ['unet/diffusion_pytorch_model.safetensors', randomBytes(3_000)],
    ['unet/empty.txt', Buffer.alloc(0)],
    ['vae/config.json', json({ scaling_factor: 0.18215 })],
    ['vae/diffusion_pytorch_model.safetensors', randomBytes(2_000)],
    ['vae_decoder/model.onnx', randomBytes(10_000)],
    ['vae_encoder/model.onnx', randomBytes(10_000)],
    ['safety_checker/model.onnx', randomBytes(5_000)],
    ['feature_extractor/preprocessor_config.json', json({})],
    ['v1-5-pruned.ckpt', randomBytes(4_000)],
    ['flax_model.msgpack', randomBytes(1_000)],
  ]);
}

const EXPECTED = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'text_encoder/config.json',
  'text_encoder/model.onnx',
  'tokenizer/merges.txt',
  'tokenizer/vocab.json',
  'unet/empty.txt',
  'unet/model.onnx',
  'unet/model.onnx_data',
  'vae/config.json',
  'vae_decoder/model.onnx',
];

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listTree(path.join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

let files: Map<string, Buffer>;
let hub: HubTestServer;
let cacheDir: string;

beforeEach(async () => {
  files = repoFiles();
  hub = await startHubTestServer({
    repo: REPO,
    revision: REVISION,
    files,
    lfs: (p) => /\.(onnx|onnx_data|bin|safetensors|ckpt|msgpack)$/.test(p),
    requiredToken: TOKEN,
  });
  cacheDir = await mkdtemp(path.join(tmpdir(), 'pull-'));
});
afterEach(async () => {
  await hub.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const pull = (extra: Partial<Parameters<typeof pullModel>[0]> = {}) =>
  pullModel({ repo: REPO, revision: REVISION, cacheDir, token: TOKEN, hubUrl: hub.url, ...extra });

describe('selectPullFiles', () => {
  it('adds vae_encoder/ only when asked', () => {
    const paths = [...repoFiles().keys()];
    expect(selectPullFiles(paths)).toEqual(EXPECTED);
    expect(selectPullFiles(paths, { includeVaeEncoder: true })).toEqual([...EXPECTED, 'vae_encoder/model.onnx'].sort());
  });
});

describe('pullModel', () => {
  it('downloads exactly the pipeline files into <cacheDir>/<owner>--<name>/<revision>/ with their content', async () => {
    const result = await pull();
    const dest = path.join(cacheDir, 'acme--sd-tiny-onnx', 'onnx');
    expect(result.dir).toBe(dest);
    expect(await listTree(dest)).toEqual(EXPECTED);
    for (const p of EXPECTED) expect((await readFile(path.join(dest, p))).equals(files.get(p)!)).toBe(true);
    expect(result.files.map((f) => f.action)).toEqual(EXPECTED.map(() => 'downloaded'));
    // Only the listing and the selected files were requested (LFS downloads through the CDN-style redirect).
    const resolved = new Set(hub.requests.filter((r) => r.url.includes('/resolve/')).map((r) => r.url.split('/resolve/onnx/')[1]));
    expect([...resolved].sort()).toEqual(EXPECTED.filter((p) => p !== 'unet/empty.txt'));
    expect(hub.requests[0]!.url).toBe(`/api/models/${REPO}/tree/${REVISION}?recursive=true&expand=false`);
  });

  it('sends the token as Authorization: Bearer on every request, from HF_TOKEN when not passed', async () => {
    const saved = process.env.HF_TOKEN;
    process.env.HF_TOKEN = TOKEN;
    try {
      await pullModel({ repo: REPO, revision: REVISION, cacheDir, hubUrl: hub.url });
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
    }
    expect(hub.requests.length).toBeGreaterThan(EXPECTED.length);
    expect(hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('fails with PullError when the server refuses the token', async () => {
    await expect(pull({ token: 'hf_wrong' })).rejects.toThrow(PullError);
    await expect(pull({ token: 'hf_wrong' })).rejects.toThrow(/cannot list acme\/sd-tiny-onnx@onnx/);
  });

  it('adds vae_encoder/ when includeVaeEncoder is set', async () => {
    const result = await pull({ includeVaeEncoder: true });
    expect(result.files.map((f) => f.path)).toContain('vae_encoder/model.onnx');
  });

  it('resumes a file cut mid-download with a Range request and skips files already complete', async () => {
    hub.cutOnce('unet/model.onnx_data', 150_000);
    const error = await pull().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullError);
    expect((error as PullError).file).toBe('unet/model.onnx_data');

    const dest = path.join(cacheDir, 'acme--sd-tiny-onnx', 'onnx');
    const partSize = (await stat(path.join(dest, 'unet/model.onnx_data.part'))).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThanOrEqual(150_000);
    await expect(stat(path.join(dest, 'unet/model.onnx_data'))).rejects.toThrow();

    hub.requests.length = 0;
    const progress: PullProgress[] = [];
    const result = await pull({ onProgress: (p) => progress.push(p) });
    const action = Object.fromEntries(result.files.map((f) => [f.path, f.action]));
    expect(action['unet/model.onnx_data']).toBe('resumed');
    expect(action['unet/model.onnx']).toBe('skipped');
    expect(action['vae_decoder/model.onnx']).toBe('downloaded');
    const ranges = hub.requests.filter((r) => r.url.startsWith('/lfs-cdn/') && r.range !== 'bytes=0-0').map((r) => r.range);
    expect(ranges).toContain(`bytes=${partSize}-399999`);
    expect(hub.requests.some((r) => r.url.endsWith('/unet/model.onnx'))).toBe(false);
    expect((await readFile(path.join(dest, 'unet/model.onnx_data'))).equals(files.get('unet/model.onnx_data')!)).toBe(true);
    await expect(stat(path.join(dest, 'unet/model.onnx_data.part'))).rejects.toThrow();

    const total = EXPECTED.reduce((s, p) => s + files.get(p)!.length, 0);
    expect(progress.at(-1)).toMatchObject({ bytesDone: total, bytesTotal: total });
    expect(progress.every((p, i) => i === 0 || p.bytesDone >= progress[i - 1]!.bytesDone)).toBe(true);
    expect(progress.find((p) => p.file === 'unet/model.onnx_data')!.fileBytes).toBeGreaterThan(partSize);
  });

  it('skips everything on a second pull of a complete copy', async () => {
    await pull();
    hub.requests.length = 0;
    const result = await pull();
    expect(result.files.every((f) => f.action === 'skipped')).toBe(true);
    expect(hub.requests.map((r) => r.url)).toEqual([`/api/models/${REPO}/tree/${REVISION}?recursive=true&expand=false`]);
  });

  it.each([
    ['an LFS file (SHA-256)', 'unet/model.onnx', /sha256 .* does not match/],
    ['a small git file (blob SHA-1)', 'scheduler/scheduler_config.json', /git-sha1 .* does not match/],
  ])('rejects %s whose content does not match the listing, leaving no file behind', async (_kind, bad, message) => {
    hub.corrupt(bad);
    const error = await pull().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullError);
    expect((error as PullError).file).toBe(bad);
    expect((error as Error).message).toMatch(message);
    const dest = path.join(cacheDir, 'acme--sd-tiny-onnx', 'onnx');
    await expect(stat(path.join(dest, bad))).rejects.toThrow();
    await expect(stat(path.join(dest, `${bad}.part`))).rejects.toThrow();
  });

  it('refuses a repository without model_index.json', async () => {
    files.delete('model_index.json');
    await expect(pull()).rejects.toThrow(/no model_index.json/);
  });
});
