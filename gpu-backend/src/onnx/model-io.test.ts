import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './builders.js';
import { externalDataRef } from './external-data.js';
import { decodeModel, loadModel, saveModel, serializeModel } from './model-io.js';
import { float16ToFloat32, float32ToFloat16, tensorToFloat32 } from './tensor-data.js';
import { compareToReference } from '../../../test/support/onnx/compare.js';
import { fixturePath, fixtureTensor, readFixtureJson } from '../../../test/support/fixtures.js';
import { cpuSession, runFloat32 } from '../../../test/support/onnx/session.js';
import { DataType } from './types.js';

const fixtures = ['deepcache-sd15-tiny', 'deepcache-sd21v-tiny', 'deepcache-sdxl-tiny'] as const;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'onnx-io-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function forwardCase(fixture: string) {
  const json = readFixtureJson(fixture, 'reference/unet_forward.json') as {
    inputs: Record<string, unknown>;
    outputs: { out_sample: unknown };
  };
  const feeds = Object.fromEntries(Object.entries(json.inputs).map(([k, v]) => [k, fixtureTensor(v)]));
  return { feeds, expected: fixtureTensor(json.outputs.out_sample) };
}

describe('model I/O on the fixture U-Nets', () => {
  describe.each(fixtures)('%s', (fixture) => {
    const file = fixturePath(fixture, 'unet/model.onnx');

    it('keeps the graph through read → write → read', () => {
      const model = loadModel(file);
      const again = decodeModel(serializeModel(model));
      expect(again.graph.node.length).toBe(model.graph.node.length);
      expect(JSON.stringify(again)).toBe(JSON.stringify(model));
    });

    it('gives the reference out_sample when the rewritten bytes run in onnxruntime', async () => {
      const session = await cpuSession(serializeModel(loadModel(file)));
      const { feeds, expected } = forwardCase(fixture);
      const { out_sample } = await runFloat32(session, feeds, ['out_sample']);
      const cmp = compareToReference(out_sample!.data, expected.data);
      expect(cmp.ok, JSON.stringify(cmp)).toBe(true);
      await session.release();
    });
  });
});

describe('external data', () => {
  const source = fixturePath('deepcache-sd15-tiny', 'unet/model.onnx');
  const dir = path.join(tmp, 'unet');
  const file = path.join(dir, 'model.onnx');

  it('writes weights to model.onnx_data and onnxruntime loads the pair from the folder', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    saveModel(loadModel(source), file, { externalDataFile: 'model.onnx_data', sizeThreshold: 1024 });
    const moved = loadModel(file).graph.initializer.reduce((n, t) => n + (externalDataRef(t)?.length ?? 0), 0);
    expect(moved).toBeGreaterThan(500_000);
    expect(statSync(path.join(dir, 'model.onnx_data')).size).toBeGreaterThanOrEqual(moved);
    expect(statSync(file).size).toBeLessThan(statSync(source).size - moved + 100_000);
    const session = await cpuSession(file);
    const { feeds, expected } = forwardCase('deepcache-sd15-tiny');
    const { out_sample } = await runFloat32(session, feeds, ['out_sample']);
    expect(compareToReference(out_sample!.data, expected.data).ok).toBe(true);
    await session.release();
  });

  it('loads external tensors lazily as references and eagerly as bytes', () => {
    const lazy = loadModel(file);
    const external = lazy.graph.initializer.filter((t) => externalDataRef(t));
    expect(external.length).toBeGreaterThan(0);
    expect(() => serializeModel(lazy)).toThrow(/external data/);
    const eager = loadModel(file, { externalData: 'eager' });
    expect(eager.graph.initializer.some((t) => externalDataRef(t))).toBe(false);
    const original = loadModel(source);
    const name = external[0]!.name;
    const a = tensorToFloat32(eager.graph.initializer.find((t) => t.name === name)!);
    const b = tensorToFloat32(original.graph.initializer.find((t) => t.name === name)!);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('writes a second graph that shares the existing data file without copying it', async () => {
    const before = readdirSync(dir).sort();
    const second = path.join(dir, 'second.onnx');
    saveModel(loadModel(file), second);
    expect(readdirSync(dir).sort()).toEqual([...before, 'second.onnx'].sort());
    const session = await cpuSession(second);
    const { feeds, expected } = forwardCase('deepcache-sd15-tiny');
    const { out_sample } = await runFloat32(session, feeds, ['out_sample']);
    expect(compareToReference(out_sample!.data, expected.data).ok).toBe(true);
    await session.release();
  });

  it('refuses to truncate a data file the model still references', () => {
    expect(() => saveModel(loadModel(file), path.join(dir, 'third.onnx'), { externalDataFile: 'model.onnx_data' })).toThrow(/truncate/);
  });

  it('copies referenced bytes when saving into another folder', () => {
    const other = path.join(tmp, 'copy.onnx');
    expect(() => saveModel(loadModel(file), other, { sourceDir: dir })).toThrow(/externalDataFile/);
    saveModel(loadModel(file), other, { sourceDir: dir, externalDataFile: 'copy.onnx_data' });
    expect(existsSync(path.join(tmp, 'copy.onnx_data'))).toBe(true);
    const eager = loadModel(other, { externalData: 'eager' });
    expect(eager.graph.initializer.length).toBe(loadModel(source).graph.initializer.length);
  });
});

describe('fp16', () => {
  it('converts known half values both ways', () => {
    const values = Float32Array.from([0, 1, -2, 0.5, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity]);
    const bits = float32ToFloat16(values);
    expect(Array.from(bits)).toEqual([0x0000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00]);
    expect(Array.from(float16ToFloat32(bits))).toEqual(Array.from(values));
  });

  it('rounds to nearest even and overflows to infinity', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
    expect(Array.from(float32ToFloat16(Float32Array.from([1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, Number.NaN])))).toEqual([
      0x3c00, 0x3c02, 0x7c00, 0x7e00,
    ]);
  });

  it('round-trips an fp16 model with external weights through onnxruntime', async () => {
    const w = Float32Array.from({ length: 600 }, (_, i) => (i - 300) / 64);
    const graph = makeGraph('fp16', {
      nodes: [makeNode('Add', ['x', 'w'], ['y'])],
      inputs: [makeValueInfo('x', DataType.FLOAT16, [600])],
      outputs: [makeValueInfo('y', DataType.FLOAT16, [600])],
      initializers: [makeTensor('w', DataType.FLOAT16, [600], w)],
    });
    const file = path.join(tmp, 'fp16.onnx');
    saveModel(makeModel(graph), file, { externalDataFile: 'fp16.onnx_data', sizeThreshold: 16 });
    const reread = loadModel(file, { externalData: 'eager' });
    expect(Array.from(tensorToFloat32(reread.graph.initializer[0]!))).toEqual(Array.from(w));
    const session = await cpuSession(file);
    const x = float32ToFloat16(Float32Array.from({ length: 600 }, () => 0.25));
    const out = await session.run({ x: new ort.Tensor('float16', x, [600]) });
    const y = float16ToFloat32(out.y!.data as Uint16Array);
    expect(Array.from(y)).toEqual(Array.from(w, (v) => v + 0.25));
    await session.release();
  });
});
