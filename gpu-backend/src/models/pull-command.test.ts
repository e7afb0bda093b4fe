import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubTestServer, type HubTestServer } from './hub-test-server.js';
import { runPullCommand, type CommandIo } from './pull-command.js';

let hub: HubTestServer;
let cacheDir: string;
const files = new Map([
  ['model_index.json', Buffer.from('{"_class_name":"OnnxStableDiffusionPipeline"}')],
  ['unet/model.onnx', Buffer.alloc(5000, 7)],
]);

beforeAll(async () => {
  hub = await startHubTestServer({ repo: 'acme/tiny', revision: 'onnx', files, lfs: (p) => p.endsWith('.onnx'), requiredToken: 'hf_cli' });
  cacheDir = await mkdtemp(path.join(tmpdir(), 'pull-cli-'));
});
afterAll(async () => {
  await hub.close();
  await rm(cacheDir, { recursive: true, force: true });
});

function captureIo(env: Record<string, string>): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), env };
}

describe('runPullCommand', () => {
  it('pulls with the token from HF_TOKEN and prints the model directory', async () => {
    const io = captureIo({ HF_TOKEN: 'hf_cli', MODEL_CACHE_DIR: cacheDir });
    expect(await runPullCommand(['acme/tiny', '--revision', 'onnx', '--hub-url', hub.url], io)).toBe(0);
    expect(io.out).toEqual([path.join(cacheDir, 'acme--tiny', 'onnx')]);
    expect(await readFile(path.join(cacheDir, 'acme--tiny/onnx/unet/model.onnx'))).toEqual(files.get('unet/model.onnx'));
    expect(io.err).toContain('completed unet/model.onnx (0.0 MiB)');
  });

  it('exits 1 with the reason when the pull fails', async () => {
    const io = captureIo({ MODEL_CACHE_DIR: cacheDir });
    expect(await runPullCommand(['acme/tiny', '--revision', 'onnx', '--hub-url', hub.url], io)).toBe(1);
    expect(io.err.join('\n')).toMatch(/pull failed: cannot list acme\/tiny@onnx/);
  });

  it.each([[[]], [['not-a-repo']], [['a/b', '--bogus']], [['a/b', '--hub-url', 'nope']]])('exits 2 with usage on bad arguments %j', async (argv) => {
    const io = captureIo({});
    expect(await runPullCommand(argv, io)).toBe(2);
    expect(io.err.at(-1)).toMatch(/^usage: pull/);
  });
});
