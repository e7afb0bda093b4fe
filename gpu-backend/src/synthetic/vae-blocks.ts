/**
 * Blocks the synthetic VAE encoder and decoder share (diffusers `AutoencoderKL` scope names).
 * @module
 */
import type { GraphBuilder } from './graph-builder.js';
import { attention, groupNorm } from './layers.js';
import { RESIDUAL_GAIN, resnetBlock } from './unet-blocks.js';

/** A VAE resnet: no time embedding, diffusers' activation names. */
export function vaeResnet(b: GraphBuilder, x: string, name: string, cin: number, cout: number, groups: number, eps: number): string {
  return resnetBlock(b, x, name, {
    inChannels: cin,
    outChannels: cout,
    groups,
    eps,
    temb: null,
    actNames: ['nonlinearity', 'nonlinearity_1', 'nonlinearity_2'],
  });
}

/** The VAE's `mid_block`: resnet → single-head self-attention over the pixels (residual) → resnet, at `top` channels. */
export function vaeMidBlock(b: GraphBuilder, h: string, top: number, groups: number, eps: number): string {
  return b.scope('mid_block', () => {
    let x = vaeResnet(b, h, 'resnets.0', top, top, groups, eps);
    x = b.scope('attentions.0', () => {
      const normed = groupNorm(b, x, 'group_norm', groups, top, eps);
      const nhwc = b.op('Transpose', [normed], { perm: [0, 2, 3, 1] });
      const seq = b.op('Reshape', [nhwc, b.ints([0, -1, top])]);
      const a = attention(b, seq, null, top, { heads: 1, headDim: top, qkvBias: true, outGain: RESIDUAL_GAIN });
      const back = b.op('Transpose', [b.op('Reshape', [a, b.op('Shape', [nhwc])])], { perm: [0, 3, 1, 2] });
      return b.op('Div', [b.op('Add', [back, x]), b.scalar(1)]);
    });
    return vaeResnet(b, x, 'resnets.1', top, top, groups, eps);
  });
}
