import { describe, expect, it } from 'vitest';
import { countMacs } from '../onnx/mac-counter.js';
import { serializeModel } from '../onnx/model-io.js';
import { float16ToFloat32, float32ToFloat16 } from '../onnx/tensor-data.js';
import * as ort from 'onnxruntime-node';
import { cpuSession } from '../../../test/support/onnx/session.js';
import { meanStd } from '../../../test/support/synthetic.js';
import { unetFeeds } from './unet-feeds.js';
import { buildUnet } from './unet.js';
import { UNET_SPECS, type SyntheticArch } from './unet-config.js';

const G = 1e9;
const params = (arch: SyntheticArch) =>
  buildUnet(arch, 'full', { weights: 'shapes-only' }).graph.initializer.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
const fullMacs = (arch: SyntheticArch, side: number) => {
  const spec = UNET_SPECS[arch].full;
  const dims: Record<string, number[]> = {
    sample: [1, 4, side / 8, side / 8],
    timestep: [1],
    encoder_hidden_states: [1, 77, spec.crossAttentionDim],
  };
  if (spec.textTime) Object.assign(dims, { text_embeds: [1, spec.textTime.textEmbedDim], time_ids: [1, 6] });
  return countMacs(buildUnet(arch, 'full', { weights: 'shapes-only' }), dims);
};

describe('full-width U-Net graphs (shapes only, no weights materialised)', () => {
  it('count 338.8 GMACs (conv + weight matmuls) for SD 1.5 at 512² within 1%, split as diffusers measures', () => {
    const m = fullMacs('sd15', 512);
    expect(Math.abs(m.paper / G - 338.8) / 338.8).toBeLessThan(0.01);
    // diffusers' own SD 1.5 U-Net: conv 221.97, linear 116.64, attention matmuls 63.03
    expect(m.conv / G).toBeCloseTo(221.97, 1);
    expect(m.linear / G).toBeCloseTo(116.64, 1);
    expect(m.attention / G).toBeCloseTo(63.03, 1);
  });

  it('count 85.78 + 4.27 GMACs for SD 1.5 at 256²', () => {
    const m = fullMacs('sd15', 256);
    expect(m.paper / G).toBeCloseTo(85.78, 1);
    expect(m.attention / G).toBeCloseTo(4.27, 1);
  });

  it('pin the SD 2.1 (512², 768²) and SDXL (1024²) figures', () => {
    const sd21 = fullMacs('sd21', 512);
    expect([sd21.conv, sd21.linear, sd21.attention].map((v) => +(v / G).toFixed(2))).toEqual([209.18, 129.92, 63.03]);
    const sd21v = fullMacs('sd21', 768);
    expect([sd21v.conv, sd21v.linear, sd21v.attention].map((v) => +(v / G).toFixed(2))).toEqual([470.66, 289.83, 314.07]);
    const xl = fullMacs('sdxl', 1024);
    expect([xl.conv, xl.linear, xl.attention].map((v) => +(v / G).toFixed(2))).toEqual([811.56, 2177.1, 391.96]);
  });

  it('have the parameter counts of the diffusers models (SD 1.5, SD 2.1, SDXL base)', () => {
    expect(params('sd15')).toBe(859_520_964);
    expect(params('sd21')).toBe(865_910_724);
    expect(params('sdxl')).toBe(2_567_463_684);
  });
});

describe('tiny U-Nets in onnxruntime-node', () => {
  for (const arch of ['sd15', 'sd21', 'sdxl'] as const) {
    it(`${arch}: runs at 8×8 with a finite output of sensible std`, async () => {
      const spec = UNET_SPECS[arch].tiny;
      const session = await cpuSession(serializeModel(buildUnet(arch, 'tiny', { seed: 3 })));
      const shape = {
        batch: 2,
        height: 8,
        width: 8,
        contextDim: spec.crossAttentionDim,
        ...(spec.textTime ? { textEmbedDim: spec.textTime.textEmbedDim } : {}),
      };
      expect(session.inputNames).toEqual([
        'sample',
        'timestep',
        'encoder_hidden_states',
        ...(spec.textTime ? ['text_embeds', 'time_ids'] : []),
      ]);
      const out = (await session.run(unetFeeds(shape, 801, 7))).out_sample!;
      expect(out.dims).toEqual([2, 4, 8, 8]);
      const { std } = meanStd(out.data as Float32Array);
      expect(std).toBeGreaterThan(0.05);
      expect(std).toBeLessThan(5);
      // the timestep matters: another t gives another output
      const other = (await session.run(unetFeeds(shape, 1, 7))).out_sample!.data as Float32Array;
      expect(meanStd(Float32Array.from(other, (v, i) => v - (out.data as Float32Array)[i]!)).std).toBeGreaterThan(1e-3);
      await session.release();
    });
  }

  it('fp16 graphs take and return float16 (timestep float32) and track the fp32 graph', async () => {
    const shape = { batch: 1, height: 8, width: 8, contextDim: 32 };
    const feeds = unetFeeds(shape, 501, 2);
    const ref = await cpuSession(serializeModel(buildUnet('sd15', 'tiny', { seed: 4 })));
    const half = await cpuSession(serializeModel(buildUnet('sd15', 'tiny', { seed: 4, float: 'float16' })));
    // every float input in fp16 except the timestep, which stays float32
    const halfFeeds = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [
        k,
        k === 'timestep' ? t : new ort.Tensor('float16', float32ToFloat16(t.data as Float32Array), t.dims),
      ]),
    );
    const a = (await ref.run(feeds)).out_sample!.data as Float32Array;
    const hOut = (await half.run(halfFeeds)).out_sample!;
    expect(hOut.type).toBe('float16');
    expect(half.inputMetadata.map((m) => (m.isTensor ? m.type : ''))).toEqual(['float16', 'float32', 'float16']);
    const b = float16ToFloat32(hOut.data as Uint16Array);
    const diff = meanStd(Float32Array.from(a, (v, i) => v - b[i]!)).std;
    expect(diff / meanStd(a).std).toBeLessThan(0.05);
    await Promise.all([ref.release(), half.release()]);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = serializeModel(buildUnet('sdxl', 'tiny', { seed: 9 }));
    expect(Buffer.compare(a, serializeModel(buildUnet('sdxl', 'tiny', { seed: 9 })))).toBe(0);
    expect(Buffer.compare(a, serializeModel(buildUnet('sdxl', 'tiny', { seed: 10 })))).not.toBe(0);
  });
});
