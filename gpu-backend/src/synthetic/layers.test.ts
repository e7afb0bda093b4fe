import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { serializeModel } from '../onnx/model-io.js';
import { compareToReference } from '../../../test/support/onnx/compare.js';
import { DataType } from '../onnx/types.js';
import { GraphBuilder } from './graph-builder.js';
import { groupNorm, timestepProj } from './layers.js';
import { fillNormal } from './random.js';
import { cpuSession } from '../../../test/support/onnx/session.js';

async function run(b: GraphBuilder, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await cpuSession(serializeModel(b.build('t')));
  const out = (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return out;
}

describe('timestepProj', () => {
  it('computes diffusers get_timestep_embedding with flip_sin_to_cos=True, shift 0: [cos(t·f), sin(t·f)]', async () => {
    const dim = 32;
    const b = new GraphBuilder();
    const t = b.input('t', DataType.FLOAT, ['n']);
    b.output(timestepProj(b, t, 'time_proj', dim), 'emb', DataType.FLOAT, ['n', dim]);
    const ts = [0, 1, 801, 999];
    const out = await run(b, { t: new ort.Tensor('float32', Float32Array.from(ts), [ts.length]) });
    const half = dim / 2;
    const ref = new Float32Array(ts.length * dim);
    ts.forEach((tv, r) => {
      for (let i = 0; i < half; i++) {
        const arg = Math.fround(tv * Math.fround(Math.exp((-Math.log(10000) * i) / half)));
        ref[r * dim + i] = Math.cos(arg);
        ref[r * dim + half + i] = Math.sin(arg);
      }
    });
    expect(compareToReference(out, ref, { rel: 0, abs: 1e-5 }).ok).toBe(true);
  });
});

describe('groupNorm', () => {
  it('normalises each group of channels over (C/G, H, W) like torch.nn.GroupNorm, then scales per channel', async () => {
    const [n, c, h, w, g] = [2, 6, 3, 5, 3];
    const b = new GraphBuilder({ seed: 4 });
    const x = b.input('x', DataType.FLOAT, ['n', c, 'h', 'w']);
    b.output(groupNorm(b, x, 'norm', g, c, 1e-5), 'y', DataType.FLOAT, ['n', c, 'h', 'w']);
    const model = b.build('gn');
    const gamma = model.graph.initializer.find((t) => t.name === 'norm.weight')!;
    const beta = model.graph.initializer.find((t) => t.name === 'norm.bias')!;
    const gv = new Float32Array(gamma.rawData!.slice().buffer);
    const bv = new Float32Array(beta.rawData!.slice().buffer);
    const xs = fillNormal(new Float32Array(n * c * h * w), 1, 'x', 2, 0.5);
    const out = await run(b, { x: new ort.Tensor('float32', xs, [n, c, h, w]) });
    const per = (c / g) * h * w;
    const ref = new Float32Array(xs.length);
    for (let k = 0; k < n * g; k++) {
      const seg = xs.subarray(k * per, (k + 1) * per);
      const mean = seg.reduce((s, v) => s + v, 0) / per;
      const variance = seg.reduce((s, v) => s + (v - mean) ** 2, 0) / per;
      for (let i = 0; i < per; i++) {
        const ch = (k % g) * (c / g) + Math.floor(i / (h * w));
        ref[k * per + i] = ((seg[i]! - mean) / Math.sqrt(variance + 1e-5)) * gv[ch]! + bv[ch]!;
      }
    }
    expect(compareToReference(out, ref).ok).toBe(true);
  });
});
