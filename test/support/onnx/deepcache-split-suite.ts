/**
 * The DeepCache split test suite for one fixture U-Net, shared by the per-fixture test files (one file each so
 * vitest runs them in parallel). Sessions are built once per branch and released after the suite.
 * @module
 */
import type * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { DEEPCACHE_FEATURE, splitUnetForDeepCache, type DeepCacheSplit } from '../../../gpu-backend/src/onnx/deepcache-split.js';
import { countMacs } from '../../../gpu-backend/src/onnx/mac-counter.js';
import { promoteToOutput } from '../../../gpu-backend/src/onnx/promote-output.js';
import { loadModel, serializeModel } from '../../../gpu-backend/src/onnx/model-io.js';
import type { ModelProto } from '../../../gpu-backend/src/onnx/types.js';
import { validateModel } from '../../../gpu-backend/src/onnx/validate.js';
import { compareToReference } from './compare.js';
import { fixturePath, fixtureTensor, readFixtureJson, type FixtureTensor } from '../fixtures.js';
import { cpuSession, runFloat32 } from './session.js';

interface BranchRecord {
  cache_branch_id: number;
  onnx_concat_node: string;
  onnx_cached_input: string;
  cached_tensor: unknown;
  shallow_out_sample: unknown;
}

interface FeaturesJson {
  inputs: Record<string, unknown>;
  full_out_sample: unknown;
  plain_out_sample_at_shallow_inputs: unknown;
  branches: BranchRecord[];
}

/** Deterministic uniform(-1, 1) values (mulberry32). */
function randomTensor(dims: readonly number[], seed: number): FixtureTensor {
  let a = seed >>> 0;
  const data = new Float32Array(dims.reduce((x, y) => x * y, 1));
  for (let i = 0; i < data.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return { data, dims };
}

/** Random feeds for the U-Net's inputs at batch × height × width latents (timestep in [0, 1000)). */
function randomFeeds(unet: ModelProto, batch: number, height: number, width: number, seed: number): Record<string, FixtureTensor> {
  const params: Record<string, number> = { batch_size: batch, height, width, steps: 1, sequence_length: 7 };
  const feeds: Record<string, FixtureTensor> = {};
  unet.graph.input.forEach((v, k) => {
    const dims = (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimValue ?? params[d.dimParam ?? '']);
    if (dims.some((d) => d === undefined)) throw new Error(`no test value for a dim of ${v.name}`);
    const t = randomTensor(dims as number[], seed * 31 + k);
    feeds[v.name] = v.name === 'timestep' ? { data: t.data.map((x) => Math.round((x + 1) * 499)), dims: t.dims } : t;
  });
  return feeds;
}

/** Renames every node to n0, n1, … and every intermediate tensor to t0, t1, … (inputs/outputs/weights keep names). */
function anonymise(model: ModelProto): ModelProto {
  const keep = new Set([
    ...model.graph.input.map((v) => v.name),
    ...model.graph.output.map((v) => v.name),
    ...model.graph.initializer.map((t) => t.name ?? ''),
  ]);
  const names = new Map<string, string>();
  const rename = (x: string) => (x === '' || keep.has(x) ? x : (names.get(x) ?? (names.set(x, `t${names.size}`), names.get(x)!)));
  const node = model.graph.node.map((n, i) => ({ ...n, name: `n${i}`, input: n.input.map(rename), output: n.output.map(rename) }));
  return { ...model, graph: { ...model.graph, node, valueInfo: [] } };
}

function expectClose(actual: FixtureTensor, ref: FixtureTensor, what: string): void {
  expect(actual.dims, what).toEqual(ref.dims);
  const cmp = compareToReference(actual.data, ref.data);
  expect(cmp.ok, `${what}: ${JSON.stringify(cmp)}`).toBe(true);
}

/** Registers the split suite for a fixture with `branchCount` valid branches. */
export function describeDeepCacheSplit(fixture: string, branchCount: number): void {
  describe(`splitUnetForDeepCache on ${fixture}`, () => {
    const unet = loadModel(fixturePath(fixture, 'unet/model.onnx'));
    const json = readFixtureJson(fixture, 'reference/deepcache_features.json') as FeaturesJson;
    const inputs = Object.fromEntries(Object.entries(json.inputs).map(([k, v]) => [k, fixtureTensor(v)]));
    const splits = new Map<number, DeepCacheSplit>();
    const split = (b: number) => splits.get(b) ?? (splits.set(b, splitUnetForDeepCache(unet, b)), splits.get(b)!);
    const sessions = new Map<number, Promise<{ full: ort.InferenceSession; shallow: ort.InferenceSession }>>();
    const open: ort.InferenceSession[] = [];
    const sessionsFor = (b: number) => {
      let p = sessions.get(b);
      if (!p) {
        p = (async () => {
          const s = split(b);
          const [full, shallow] = await Promise.all([cpuSession(serializeModel(s.full)), cpuSession(serializeModel(s.shallow))]);
          open.push(full, shallow);
          return { full, shallow };
        })();
        sessions.set(b, p);
      }
      return p;
    };
    afterAll(async () => {
      await Promise.all(open.map((s) => s.release()));
    });

    const at = (which: 'full' | 'shallow'): Record<string, FixtureTensor> => {
      const feeds: Record<string, FixtureTensor> = {};
      for (const [k, v] of Object.entries(inputs)) {
        if (k.endsWith('_full') || k.endsWith('_shallow')) {
          if (k.endsWith(`_${which}`)) feeds[k.slice(0, -which.length - 1)] = v;
        } else feeds[k] = v;
      }
      return feeds;
    };

    it('finds the Concat and cached tensor the fixture records for every branch, and both graphs validate', () => {
      expect(json.branches.length).toBe(branchCount);
      for (const rec of json.branches) {
        const { info, full, shallow } = split(rec.cache_branch_id);
        expect([info.concatNode, info.cachedTensor, info.foundBy]).toEqual([rec.onnx_concat_node, rec.onnx_cached_input, 'name']);
        expect(info.dims.slice(0, 1)).toEqual(['batch_size']);
        expect(full.graph.output.at(-1)?.type?.tensorType?.shape?.dim?.length).toBe(4);
        validateModel(full);
        validateModel(shallow);
        expect(full.graph.output.map((o) => o.name)).toEqual(['out_sample', DEEPCACHE_FEATURE]);
        expect(shallow.graph.input.map((v) => v.name)).toContain(DEEPCACHE_FEATURE);
      }
    });

    it('builds each full graph as the original plus one Identity to deepcache_feature', () => {
      for (let b = 0; b < branchCount; b++) {
        const { full, info } = split(b);
        expect(full.graph.node.slice(0, -1)).toEqual(unet.graph.node);
        const extra = full.graph.node[full.graph.node.length - 1]!;
        expect([extra.opType, extra.input, extra.output]).toEqual(['Identity', [info.cachedTensor], [DEEPCACHE_FEATURE]]);
        expect(full.graph.output.slice(0, -1)).toEqual(unet.graph.output);
        expect(full.graph.input).toEqual(unet.graph.input);
      }
    });

    it("gives every branch's cached tensor and the plain output at the full-step inputs", async () => {
      // One session for all branches: the same promote pass applied once per branch (cheaper than 12 sessions).
      let all = unet;
      for (let b = 0; b < branchCount; b++) {
        const type = split(b).full.graph.output.at(-1)!.type!.tensorType!;
        const shape = (type.shape?.dim ?? []).map((d) => d.dimValue ?? d.dimParam ?? null);
        all = promoteToOutput(all, split(b).info.cachedTensor, {
          outputName: `${DEEPCACHE_FEATURE}_${b}`,
          type: { elemType: type.elemType!, shape },
        });
      }
      const session = await cpuSession(serializeModel(all));
      open.push(session);
      const out = await runFloat32(session, at('full'));
      expectClose(out['out_sample']!, fixtureTensor(json.full_out_sample), 'full out_sample');
      for (const rec of json.branches) {
        expectClose(
          out[`${DEEPCACHE_FEATURE}_${rec.cache_branch_id}`]!,
          fixtureTensor(rec.cached_tensor),
          `cached tensor of branch ${rec.cache_branch_id}`,
        );
      }
    });

    it.each(Array.from({ length: branchCount }, (_, b) => b))(
      'branch %i: shallow graph on the cached tensor gives the reference shallow output, not the plain one',
      async (b) => {
        const rec = json.branches[b]!;
        const session = await cpuSession(serializeModel(split(b).shallow));
        open.push(session);
        const feeds: Record<string, FixtureTensor> = { ...at('shallow'), [DEEPCACHE_FEATURE]: fixtureTensor(rec.cached_tensor) };
        const s = await runFloat32(session, Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]!])));
        expectClose(s['out_sample']!, fixtureTensor(rec.shallow_out_sample), 'shallow out_sample');
        const plain = compareToReference(s['out_sample']!.data, fixtureTensor(json.plain_out_sample_at_shallow_inputs).data);
        expect(plain.ok, 'shallow output must differ from the no-cache output').toBe(false);
      },
    );

    it('finds the same Concats structurally when node and tensor names are gone, and builds the same graphs', async () => {
      const anon = anonymise(unet);
      for (let b = 0; b < branchCount; b++) {
        const named = split(b);
        const found = splitUnetForDeepCache(anon, b);
        expect(found.info.foundBy).toBe('structure');
        expect(found.info.concatNodeIndex).toBe(named.info.concatNodeIndex);
        expect(found.shallow.graph.node.map((n) => n.opType)).toEqual(named.shallow.graph.node.map((n) => n.opType));
        expect(found.info.dims).toEqual(named.info.dims);
      }
      const b = 0;
      const anonSplit = splitUnetForDeepCache(anon, b);
      const [full, shallow] = await Promise.all([
        cpuSession(serializeModel(anonSplit.full)),
        cpuSession(serializeModel(anonSplit.shallow)),
      ]);
      const f = await runFloat32(full, at('full'));
      const s = await runFloat32(shallow, { ...at('shallow'), [DEEPCACHE_FEATURE]: f[DEEPCACHE_FEATURE]! });
      expectClose(s['out_sample']!, fixtureTensor(json.branches[b]!.shallow_out_sample), 'anonymised shallow out_sample');
      await Promise.all([full.release(), shallow.release()]);
    });

    it(`rejects branch ${branchCount} with a RangeError naming 0–${branchCount - 1}`, () => {
      expect(() => splitUnetForDeepCache(unet, branchCount)).toThrow(RangeError);
      expect(() => splitUnetForDeepCache(unet, branchCount)).toThrow(`0–${branchCount - 1}`);
      expect(() => splitUnetForDeepCache(unet, -1)).toThrow(RangeError);
    });

    it('keeps shallow(x, t, c, full(x, t, c).feature) == full(x, t, c).out for random inputs, sizes and batches', async () => {
      for (const b of [1, branchCount - 1]) {
        const { full, shallow } = await sessionsFor(b);
        for (const [batch, h, w] of [
          [1, 8, 8],
          [2, 16, 24],
          [2, 8, 16],
        ] as const) {
          const feeds = randomFeeds(unet, batch, h, w, b * 100 + h + w + batch);
          const f = await runFloat32(full, feeds);
          const s = await runFloat32(shallow, { ...feeds, [DEEPCACHE_FEATURE]: f[DEEPCACHE_FEATURE]! });
          expectClose(s['out_sample']!, f['out_sample']!, `branch ${b} at ${batch}×${h}×${w}`);
        }
      }
    });

    it('has shallow MACs growing strictly with the branch and below the full graph', () => {
      const dims = randomFeeds(unet, 1, 16, 16, 1);
      const inputDims = Object.fromEntries(Object.entries(dims).map(([k, v]) => [k, v.dims]));
      const full = countMacs(unet, inputDims).total;
      let previous = 0;
      for (let b = 0; b < branchCount; b++) {
        const s = split(b);
        const featureDims = s.info.dims.map((d) =>
          typeof d === 'number' ? d : d === 'batch_size' ? 1 : 16 / Number(String(d).split('/')[1] ?? 1),
        );
        const shallowDims: Record<string, readonly number[]> = { ...inputDims, [DEEPCACHE_FEATURE]: featureDims };
        const macs = countMacs(s.shallow, Object.fromEntries(s.shallow.graph.input.map((v) => [v.name, shallowDims[v.name]!]))).total;
        expect(macs).toBeGreaterThan(previous);
        expect(macs).toBeLessThan(full);
        previous = macs;
      }
    });
  });
}
