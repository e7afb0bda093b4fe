import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readFixtureJson } from '../../../test/support/fixtures.js';
import { DataType } from '../onnx/types.js';
import { GraphBuilder } from './graph-builder.js';
import { conv2d } from './layers.js';
import { buildUnet } from './unet.js';
import type { SyntheticArch } from './unet-config.js';

describe('GraphBuilder naming', () => {
  it('names nodes by torch scope, outputs <node>_output_0, repeats _1, _2, parameters by module path', () => {
    const b = new GraphBuilder({ weights: 'shapes-only' });
    const x = b.input('sample', DataType.FLOAT, ['n', 4, 'h', 'w']);
    const y = b.scope('down_blocks.0', () => b.scope('resnets.0', () => conv2d(b, x, 'conv1', 4, 8)));
    const a = b.scope('up_blocks.1', () => b.op('Concat', [y, y], { axis: 1 }));
    const c = b.scope('up_blocks.1', () => b.op('Concat', [a, y], { axis: 1 }));
    b.output(c, 'out', DataType.FLOAT, ['n', 24, 'h', 'w']);
    const m = b.build('g');
    expect(m.graph.node.map((n) => n.name)).toEqual([
      '/down_blocks.0/resnets.0/conv1/Conv',
      '/up_blocks.1/Concat',
      '/up_blocks.1/Concat_1',
    ]);
    expect(y).toBe('/down_blocks.0/resnets.0/conv1/Conv_output_0');
    expect(m.graph.node[2]!.output).toEqual(['out']);
    expect(m.graph.initializer.map((t) => [t.name, t.dims])).toEqual([
      ['down_blocks.0.resnets.0.conv1.weight', [8, 4, 3, 3]],
      ['down_blocks.0.resnets.0.conv1.bias', [8]],
    ]);
    expect(m.graph.initializer[0]!.rawData).toBeUndefined();
  });

  it('refuses a parameter name defined twice', () => {
    const b = new GraphBuilder();
    b.weight('w', [1], { kind: 'normal', std: 1 });
    expect(() => b.weight('w', [1], { kind: 'normal', std: 1 })).toThrow(/defined twice/);
  });
});

const ConcatNode = z.object({ name: z.string(), axis: z.number(), input_producers: z.array(z.string()) });
const Manifest = z.object({ models: z.object({ unet: z.object({ up_concat_nodes: z.array(ConcatNode) }) }) });
const SKIP = /^\/up_blocks\.\d+\/Concat(_\d+)?$/;

/** Skip Concats and the nodes producing their two inputs, as the diffusers export names them. */
function fixtureSkips(fixture: string): string[][] {
  const m = Manifest.parse(readFixtureJson(fixture, 'reference/manifest.json'));
  return m.models.unet.up_concat_nodes.filter((n) => SKIP.test(n.name) && n.axis === 1).map((n) => [n.name, ...n.input_producers]);
}

function syntheticSkips(arch: SyntheticArch): string[][] {
  const g = buildUnet(arch, 'tiny', { weights: 'shapes-only' }).graph;
  const producer = new Map(g.node.flatMap((n) => n.output.map((o) => [o, n.name ?? ''] as const)));
  return g.node
    .filter((n) => n.opType === 'Concat' && SKIP.test(n.name ?? ''))
    .map((n) => [n.name!, ...n.input.map((i) => producer.get(i) ?? i)]);
}

describe('synthetic U-Net names match the diffusers exports', () => {
  for (const [arch, fixture] of [
    ['sd15', 'deepcache-sd15-tiny'],
    ['sd21', 'deepcache-sd21v-tiny'],
    ['sdxl', 'deepcache-sdxl-tiny'],
  ] as const) {
    it(`${arch}: every skip Concat and the nodes feeding it carry the names of ${fixture}`, () => {
      const expected = fixtureSkips(fixture);
      expect(expected.length).toBe(arch === 'sdxl' ? 9 : 12);
      expect(syntheticSkips(arch)).toEqual(expected);
    });
  }
});
