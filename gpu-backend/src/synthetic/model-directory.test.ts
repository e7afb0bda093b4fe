import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelDirectory } from '../models/model-directory.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { TEXT_ENCODER_SPECS } from './clip-text.js';
import { makeModelDirectory, type MakeModelDirectoryResult } from './model-directory.js';
import { cpuSession } from '../../../test/support/onnx/session.js';
import { meanStd } from '../../../test/support/synthetic.js';
import { unetFeeds } from './unet-feeds.js';
import { UNET_SPECS, type SyntheticArch } from './unet-config.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'synthetic-models-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

const EXPECTED = {
  sd15: { family: 'sd15', prediction: 'epsilon', pipeline: 'StableDiffusionPipeline', scaling: 0.18215 },
  sd21: { family: 'sd21', prediction: 'v_prediction', pipeline: 'StableDiffusionPipeline', scaling: 0.18215 },
  sdxl: { family: 'sdxl', prediction: 'epsilon', pipeline: 'StableDiffusionXLPipeline', scaling: 0.13025 },
} as const;

/** Token ids [1, 77] for a prompt through the directory's own tokenizer files. */
async function promptIds(tokenizerDir: string, prompt: string): Promise<ort.Tensor> {
  const tok = await ClipTokenizer.fromHfFolder(tokenizerDir);
  const ids = tok.encodeForModel(prompt);
  return new ort.Tensor('int32', ids, [1, ids.length]);
}

for (const arch of ['sd15', 'sd21', 'sdxl'] as const satisfies readonly SyntheticArch[]) {
  describe(`tiny ${arch} model directory`, () => {
    let made: MakeModelDirectoryResult;
    beforeAll(async () => {
      made = await makeModelDirectory({ arch, scale: 'tiny', out: path.join(root, arch), seed: 1 });
    });

    it('is accepted by readModelDirectory with the right family, prediction type and VAE scaling', async () => {
      const d = await readModelDirectory(made.dir);
      const e = EXPECTED[arch];
      expect(d.family).toBe(e.family);
      expect(d.predictionType).toBe(e.prediction);
      expect(d.pipelineClass).toBe(e.pipeline);
      expect(d.vaeScalingFactor).toBe(e.scaling);
      expect(d.vaeScalingFactorSource).toBe('config');
      expect(d.vaeScaleFactor).toBe(8);
      expect(d.components.textEncoder2 !== undefined).toBe(arch === 'sdxl');
      expect(d.components.tokenizer2 !== undefined).toBe(arch === 'sdxl');
    });

    it('has text encoders with Optimum output names and shapes, pooled = last state at the EOS position', async () => {
      const specs = TEXT_ENCODER_SPECS[arch].tiny;
      for (const [i, spec] of specs.entries()) {
        const suffix = i === 0 ? '' : `_${i + 1}`;
        const session = await cpuSession(path.join(made.dir, `text_encoder${suffix}`, 'model.onnx'));
        const ids = await promptIds(path.join(made.dir, `tokenizer${suffix}`), 'a photo of a cat');
        const out = await session.run({ input_ids: ids });
        const d = spec.hiddenSize;
        const hidden = spec.hiddenStates ? Array.from({ length: spec.layers + 1 }, (_, k) => `hidden_states.${k}`) : [];
        const head = spec.projectionDim ? ['text_embeds', 'last_hidden_state'] : ['last_hidden_state', 'pooler_output'];
        expect(session.outputNames).toEqual([...head, ...hidden]);
        expect(out.last_hidden_state!.dims).toEqual([1, 77, d]);
        for (const h of hidden) expect(out[h]!.dims).toEqual([1, 77, d]);
        const last = out.last_hidden_state!.data as Float32Array;
        expect(Number.isFinite(meanStd(last).std)).toBe(true);
        if (spec.projectionDim) {
          expect(out.text_embeds!.dims).toEqual([1, spec.projectionDim]);
        } else {
          const eos = Array.from(ids.data as Int32Array).indexOf(49407);
          expect(Array.from(out.pooler_output!.data as Float32Array)).toEqual(Array.from(last.subarray(eos * d, (eos + 1) * d)));
        }
        await session.release();
      }
    });

    it('has a U-Net that runs on 8×8 latents and a VAE decoder giving [B, 3, 8h, 8w]', async () => {
      const spec = UNET_SPECS[arch].tiny;
      const unet = await cpuSession(path.join(made.dir, 'unet', 'model.onnx'));
      const shape = {
        batch: 2,
        height: 8,
        width: 8,
        contextDim: spec.crossAttentionDim,
        ...(spec.textTime ? { textEmbedDim: spec.textTime.textEmbedDim } : {}),
      };
      const noise = (await unet.run(unetFeeds(shape, 999, 3))).out_sample!;
      expect(noise.dims).toEqual([2, 4, 8, 8]);
      expect(meanStd(noise.data as Float32Array).std).toBeGreaterThan(0.05);
      const vae = await cpuSession(path.join(made.dir, 'vae_decoder', 'model.onnx'));
      const image = (await vae.run({ latent_sample: new ort.Tensor('float32', noise.data as Float32Array, [2, 4, 8, 8]) })).sample!;
      expect(image.dims).toEqual([2, 3, 64, 64]);
      const { std } = meanStd(image.data as Float32Array);
      expect(std).toBeGreaterThan(0.01);
      expect(std).toBeLessThan(10);
      await Promise.all([unet.release(), vae.release()]);
    });

    it('has a VAE encoder giving mean ‖ logvar [B, 8, H/8, W/8], logvar well inside the clamp', async () => {
      const d = await readModelDirectory(made.dir);
      expect(d.components.vaeEncoder?.model).toBe(path.join(made.dir, 'vae_encoder', 'model.onnx'));
      const enc = await cpuSession(path.join(made.dir, 'vae_encoder', 'model.onnx'));
      const pixels = Float32Array.from({ length: 2 * 3 * 64 * 48 }, (_, i) => Math.sin(i * 0.37));
      const out = (await enc.run({ sample: new ort.Tensor('float32', pixels, [2, 3, 64, 48]) })).latent_parameters!;
      expect(out.dims).toEqual([2, 8, 8, 6]);
      const data = out.data as Float32Array;
      const plane = 4 * 8 * 6;
      const logvar = Array.from({ length: 2 }, (_, r) => Array.from(data.subarray(r * 2 * plane + plane, (r + 1) * 2 * plane))).flat();
      const mean = Array.from({ length: 2 }, (_, r) => Array.from(data.subarray(r * 2 * plane, r * 2 * plane + plane))).flat();
      expect(meanStd(mean).std).toBeGreaterThan(0.01);
      expect(Math.max(...logvar.map(Math.abs))).toBeLessThan(20);
      await enc.release();
    });
  });
}

describe('makeModelDirectory determinism', () => {
  it('writes byte-identical files for the same seed and another U-Net for another seed', async () => {
    const a = await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: path.join(root, 'det-a'), seed: 5 });
    const b = await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: path.join(root, 'det-b'), seed: 5 });
    const c = await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: path.join(root, 'det-c'), seed: 6 });
    expect(b.files).toEqual(a.files);
    for (const f of a.files) {
      const [x, y] = await Promise.all([readFile(path.join(a.dir, f)), readFile(path.join(b.dir, f))]);
      expect(Buffer.compare(x, y), f).toBe(0);
    }
    const [u1, u3] = await Promise.all([readFile(path.join(a.dir, 'unet/model.onnx')), readFile(path.join(c.dir, 'unet/model.onnx'))]);
    expect(Buffer.compare(u1, u3)).not.toBe(0);
  });
});
