/**
 * The synthetic `UNet2DConditionModel` graph with Optimum's I/O contract: inputs `sample` [B, 4, H, W],
 * `timestep` 1-D [steps] (expanded to the batch inside the graph), `encoder_hidden_states` [B, S, D], and for SDXL
 * `text_embeds` [B, textEmbedDim] and `time_ids` [B, 6]; output `out_sample` [B, 4, H, W]. The block structure,
 * module names and skip connections follow diffusers, so the up-path skip concats are `/up_blocks.U/Concat{,_1,_2}`.
 * @module
 */
import { DataType, type ModelProto } from '../onnx/types.js';
import { GraphBuilder, type FloatKind, type WeightMode } from './graph-builder.js';
import { conv2d, downsample2d, gemm, groupNorm, silu, timestepProj, upsample2d } from './layers.js';
import { resnetBlock, transformer2d } from './unet-blocks.js';
import { UNET_SPECS, textTimeInputDim, type SyntheticArch, type SyntheticScale, type UnetSpec } from './unet-config.js';

/** Options of {@link buildUnet}. */
export interface BuildUnetOptions {
  readonly seed?: number;
  /**
   * float16: weights, activations and the float inputs/outputs in fp16 (fp16 I/O, as Optimum's fp16 exports),
   * except `timestep`, which stays float32 (fractional Karras/Euler timesteps near 1000 are not representable in
   * fp16); the sinusoidal projection runs in float32 and is cast to fp16.
   */
  readonly float?: FloatKind;
  /** `shapes-only` builds initializers without data (for counting MACs of full-size graphs). */
  readonly weights?: WeightMode;
}

/**
 * Builds the U-Net of an architecture at a scale.
 * @example const unet = buildUnet('sd15', 'tiny'); saveModel(unet, 'unet/model.onnx');
 */
export function buildUnet(arch: SyntheticArch, scale: SyntheticScale, options: BuildUnetOptions = {}): ModelProto {
  return buildUnetFromSpec(UNET_SPECS[arch][scale], options);
}

/** Builds a U-Net graph from explicit hyper-parameters. */
export function buildUnetFromSpec(spec: UnetSpec, options: BuildUnetOptions = {}): ModelProto {
  const b = new GraphBuilder({ seed: options.seed ?? 0, float: options.float ?? 'float32', weights: options.weights ?? 'random' });
  const ft = b.floatType;
  const ch = spec.blockOutChannels;
  const groups = spec.normNumGroups;
  const eps = 1e-5;
  const tembDim = ch[0]! * 4;
  const sample = b.input('sample', ft, ['batch_size', 4, 'height', 'width']);
  const timestep = b.input('timestep', DataType.FLOAT, ['steps']);
  const context = b.input('encoder_hidden_states', ft, ['batch_size', 'sequence_length', spec.crossAttentionDim]);

  // 1. time: expand timestep to the batch, sinusoidal projection (fp32), MLP
  const batch = b.op('Slice', [b.op('Shape', [sample]), b.ints([0]), b.ints([1])]);
  const t = b.op('Expand', [timestep, batch]);
  let tProj = timestepProj(b, t, 'time_proj', ch[0]!);
  if (options.float === 'float16') tProj = b.op('Cast', [tProj], { to: ft });
  let temb = b.scope('time_embedding', () =>
    gemm(b, silu(b, gemm(b, tProj, 'linear_1', ch[0]!, tembDim), 'act'), 'linear_2', tembDim, tembDim),
  );
  if (spec.textTime) {
    const tt = spec.textTime;
    const textEmbeds = b.input('text_embeds', ft, ['batch_size', tt.textEmbedDim]);
    const timeIds = b.input('time_ids', ft, ['batch_size', 6]);
    let idsProj = timestepProj(b, b.op('Reshape', [timeIds, b.ints([-1])]), 'add_time_proj', tt.timeEmbedDim);
    if (options.float === 'float16') idsProj = b.op('Cast', [idsProj], { to: ft });
    const timeFeatures = b.op('Reshape', [idsProj, b.ints([-1, 6 * tt.timeEmbedDim])]);
    const addIn = b.op('Concat', [textEmbeds, timeFeatures], { axis: -1 });
    const aug = b.scope('add_embedding', () =>
      gemm(b, silu(b, gemm(b, addIn, 'linear_1', textTimeInputDim(tt), tembDim), 'act'), 'linear_2', tembDim, tembDim),
    );
    temb = b.op('Add', [temb, aug]);
  }
  const tembRef = { tensor: temb, dim: tembDim };
  const resnet = (x: string, name: string, cin: number, cout: number): string =>
    resnetBlock(b, x, name, { inChannels: cin, outChannels: cout, groups, eps, temb: tembRef, actNames: ['act', 'act_1', 'act_2'] });
  const transformer = (x: string, name: string, c: number, heads: number, layers: number): string =>
    transformer2d(b, x, name, {
      channels: c,
      heads,
      layers,
      groups,
      context,
      contextDim: spec.crossAttentionDim,
      linearProjection: spec.useLinearProjection,
    });

  // 2. down path: every resnet/attention output and every downsampler output is a skip
  let h = conv2d(b, sample, 'conv_in', 4, ch[0]!);
  const skips: { tensor: string; channels: number }[] = [{ tensor: h, channels: ch[0]! }];
  let cIn = ch[0]!;
  spec.downBlockTypes.forEach((type, i) => {
    const cOut = ch[i]!;
    h = b.scope(`down_blocks.${i}`, () => {
      let x = h;
      for (let j = 0; j < spec.layersPerBlock; j++) {
        x = resnet(x, `resnets.${j}`, j === 0 ? cIn : cOut, cOut);
        if (type === 'CrossAttnDownBlock2D')
          x = transformer(x, `attentions.${j}`, cOut, spec.heads[i]!, spec.transformerLayersPerBlock[i]!);
        skips.push({ tensor: x, channels: cOut });
      }
      if (i < ch.length - 1) {
        x = downsample2d(b, x, 'downsamplers.0', cOut);
        skips.push({ tensor: x, channels: cOut });
      }
      return x;
    });
    cIn = cOut;
  });

  // 3. mid block
  const last = ch.length - 1;
  const cMid = ch[last]!;
  h = b.scope('mid_block', () => {
    let x = resnet(h, 'resnets.0', cMid, cMid);
    x = transformer(x, 'attentions.0', cMid, spec.heads[last]!, spec.transformerLayersPerBlock[last]!);
    return resnet(x, 'resnets.1', cMid, cMid);
  });

  // 4. up path: concat [hidden, skip] (the DeepCache branch points), resnet, attention, upsample
  const revCh = [...ch].reverse();
  const revHeads = [...spec.heads].reverse();
  const revLayers = [...spec.transformerLayersPerBlock].reverse();
  let prev = revCh[0]!;
  spec.upBlockTypes.forEach((type, i) => {
    const cOut = revCh[i]!;
    h = b.scope(`up_blocks.${i}`, () => {
      let x = h;
      for (let j = 0; j <= spec.layersPerBlock; j++) {
        const skip = skips.pop();
        if (!skip) throw new Error('skip connections exhausted');
        x = b.op('Concat', [x, skip.tensor], { axis: 1 });
        x = resnet(x, `resnets.${j}`, (j === 0 ? prev : cOut) + skip.channels, cOut);
        if (type === 'CrossAttnUpBlock2D') x = transformer(x, `attentions.${j}`, cOut, revHeads[i]!, revLayers[i]!);
      }
      if (i < ch.length - 1) x = upsample2d(b, x, 'upsamplers.0', cOut);
      return x;
    });
    prev = cOut;
  });
  if (skips.length !== 0) throw new Error(`${skips.length} skip connections unused`);

  // 5. out
  const out = conv2d(b, silu(b, groupNorm(b, h, 'conv_norm_out', groups, ch[0]!, eps), 'act'), 'conv_out', ch[0]!, 4);
  b.output(out, 'out_sample', ft, ['batch_size', 4, 'height', 'width']);
  return b.build('unet');
}
