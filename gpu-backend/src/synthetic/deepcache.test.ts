import type * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEEPCACHE_FEATURE, splitUnetForDeepCache, type DeepCacheSplit } from '../onnx/deepcache-split.js';
import { countMacs } from '../onnx/mac-counter.js';
import { serializeModel } from '../onnx/model-io.js';
import { compareToReference } from '../../../test/support/onnx/compare.js';
import type { ModelProto } from '../onnx/types.js';
import { cpuSession } from '../../../test/support/onnx/session.js';
import { unetFeeds } from './unet-feeds.js';
import { buildUnet } from './unet.js';
import { UNET_SPECS, type SyntheticArch } from './unet-config.js';

const BRANCHES: Record<SyntheticArch, number> = { sd15: 12, sd21: 12, sdxl: 9 };

/** The U-Net with every branch's cached tensor as an extra output, so one session yields all features. */
function withFeatureOutputs(unet: ModelProto, splits: readonly DeepCacheSplit[]): ModelProto {
  const extra = splits.map((s) => ({
    name: s.info.cachedTensor,
    type: s.full.graph.output.find((o) => o.name === DEEPCACHE_FEATURE)!.type!,
  }));
  return { ...unet, graph: { ...unet.graph, output: [...unet.graph.output, ...extra] } };
}

for (const arch of ['sd15', 'sd21', 'sdxl'] as const) {
  describe(`DeepCache split of the synthetic ${arch} U-Net`, () => {
    const spec = UNET_SPECS[arch].tiny;
    const unet = buildUnet(arch, 'tiny', { seed: 11 });
    const n = BRANCHES[arch];
    const levels = spec.blockOutChannels.length;
    const splits = Array.from({ length: n }, (_, b) => splitUnetForDeepCache(unet, b, { find: 'name' }));
    const shape = {
      batch: 2,
      height: 8,
      width: 16,
      contextDim: spec.crossAttentionDim,
      ...(spec.textTime ? { textEmbedDim: spec.textTime.textEmbedDim } : {}),
    };
    const feeds = unetFeeds(shape, 601, 5);
    let full: Record<string, ort.Tensor>;
    let session: ort.InferenceSession;

    beforeAll(async () => {
      session = await cpuSession(serializeModel(withFeatureOutputs(unet, splits)));
      full = await session.run(feeds);
    });
    afterAll(async () => session.release());

    it(`finds branches 0–${n - 1} by torch name, branch b at /up_blocks.(n-1-b//3)/Concat{,_1,_2}`, () => {
      for (const { info } of splits) {
        expect(info.branchCount).toBe(n);
        expect(info.foundBy).toBe('name');
        const u = levels - 1 - Math.floor(info.branch / 3);
        const r = 2 - (info.branch % 3);
        expect(info.concatNode).toBe(r === 0 ? `/up_blocks.${u}/Concat` : `/up_blocks.${u}/Concat_${r}`);
      }
      expect(() => splitUnetForDeepCache(unet, n)).toThrow(RangeError);
    });

    it('shallow(x, t, c, full(x, t, c).feature) equals full(x, t, c).out at every branch', async () => {
      const ref = full.out_sample!.data as Float32Array;
      for (const s of splits) {
        expect(s.full.graph.output.map((o) => o.name)).toEqual(['out_sample', DEEPCACHE_FEATURE]);
        const shallow = await cpuSession(serializeModel(s.shallow));
        const shallowFeeds: Record<string, ort.Tensor> = { [DEEPCACHE_FEATURE]: full[s.info.cachedTensor]! };
        for (const name of shallow.inputNames) if (name !== DEEPCACHE_FEATURE) shallowFeeds[name] = feeds[name]!;
        const out = (await shallow.run(shallowFeeds)).out_sample!.data as Float32Array;
        await shallow.release();
        const cmp = compareToReference(out, ref);
        expect(cmp.ok, `branch ${s.info.branch}: max diff ${cmp.maxDiff} > ${cmp.bound}`).toBe(true);
      }
    });

    it('shallow-graph MACs strictly grow with the branch id and stay below the full graph', () => {
      const dims = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, [...t.dims]]));
      const macs = splits.map((s) => {
        const feature = full[s.info.cachedTensor]!;
        const inputs = Object.fromEntries(
          s.shallow.graph.input.map((v) => [v.name, v.name === DEEPCACHE_FEATURE ? [...feature.dims] : dims[v.name]!]),
        );
        return countMacs(s.shallow, inputs).total;
      });
      for (let b = 1; b < n; b++) expect(macs[b]!).toBeGreaterThan(macs[b - 1]!);
      expect(macs[n - 1]!).toBeLessThan(countMacs(unet, dims).total);
    });
  });
}
