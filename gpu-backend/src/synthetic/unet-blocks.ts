/**
 * diffusers' U-Net building blocks as graph fragments: `ResnetBlock2D` and `Transformer2DModel` (with
 * `BasicTransformerBlock`s: self-attention, cross-attention, GEGLU feed-forward), named as torch exports them.
 * @module
 */
import type { GraphBuilder } from './graph-builder.js';
import { attention, conv2d, gelu, gemm, groupNorm, layerNorm, linear, silu } from './layers.js';

/** Gain of the last layer of every residual branch (keeps the residual stream's growth small). */
export const RESIDUAL_GAIN = 0.3;

/** Options of {@link resnetBlock}. */
export interface ResnetOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly eps: number;
  /** The time embedding [N, tembDim] (U-Net), or null (VAE). */
  readonly temb: { readonly tensor: string; readonly dim: number } | null;
  /** Activation module names: U-Net exports `act`, `act_1`, `act_2`; the VAE `nonlinearity`, `nonlinearity_1`. */
  readonly actNames: readonly [string, string, string];
}

/**
 * `ResnetBlock2D` module `name`: x [N, cin, H, W] → [N, cout, H, W] =
 * (shortcut(x) + conv2(act(norm2(conv1(act(norm1(x))) + proj(act(temb)))))) / 1.
 */
export function resnetBlock(b: GraphBuilder, x: string, name: string, o: ResnetOptions): string {
  return b.scope(name, () => {
    let h = silu(b, groupNorm(b, x, 'norm1', o.groups, o.inChannels, o.eps), o.actNames[0]);
    h = conv2d(b, h, 'conv1', o.inChannels, o.outChannels);
    if (o.temb) {
      const t = gemm(b, silu(b, o.temb.tensor, o.actNames[1]), 'time_emb_proj', o.temb.dim, o.outChannels);
      h = b.op('Add', [h, b.op('Unsqueeze', [t, b.ints([2, 3])])]);
    }
    h = silu(b, groupNorm(b, h, 'norm2', o.groups, o.outChannels, o.eps), o.temb ? o.actNames[2] : o.actNames[1]);
    h = conv2d(b, h, 'conv2', o.outChannels, o.outChannels, { gain: RESIDUAL_GAIN });
    const shortcut = o.inChannels === o.outChannels ? x : conv2d(b, x, 'conv_shortcut', o.inChannels, o.outChannels, { kernel: 1 });
    return b.op('Div', [b.op('Add', [shortcut, h]), b.scalar(1)]);
  });
}

/** Options of {@link transformer2d}. */
export interface Transformer2dOptions {
  readonly channels: number;
  readonly heads: number;
  readonly layers: number;
  readonly groups: number;
  readonly context: string;
  readonly contextDim: number;
  readonly linearProjection: boolean;
}

/** `BasicTransformerBlock` module `name` on x [N, L, dim]: self-attn, cross-attn, GEGLU feed-forward (×4). */
function basicTransformerBlock(
  b: GraphBuilder,
  x: string,
  name: string,
  dim: number,
  heads: number,
  context: string,
  contextDim: number,
): string {
  return b.scope(name, () => {
    const headDim = dim / heads;
    const n1 = layerNorm(b, x, 'norm1', dim, 1e-5);
    const a1 = b.scope('attn1', () => attention(b, n1, null, dim, { heads, headDim, qkvBias: false, outGain: RESIDUAL_GAIN }));
    let h = b.op('Add', [a1, x]);
    const n2 = layerNorm(b, h, 'norm2', dim, 1e-5);
    const a2 = b.scope('attn2', () =>
      attention(b, n2, context, dim, { heads, headDim, contextDim, qkvBias: false, outGain: RESIDUAL_GAIN }),
    );
    h = b.op('Add', [a2, h]);
    const n3 = layerNorm(b, h, 'norm3', dim, 1e-5);
    const ff = b.scope('ff', () => {
      const inner = dim * 4;
      const geglu = b.scope('net.0', () => {
        const proj = linear(b, n3, 'proj', dim, inner * 2);
        const [hidden, gate] = b.node('Split', [proj, b.ints([inner, inner])], { axis: -1 }, 2) as [string, string];
        return b.op('Mul', [hidden, gelu(b, gate, 'gelu')]);
      });
      return linear(b, geglu, 'net.2', inner, dim, { gain: RESIDUAL_GAIN });
    });
    return b.op('Add', [ff, h]);
  });
}

/**
 * `Transformer2DModel` module `name`: x [N, C, H, W] → GroupNorm(eps 1e-6) → proj_in (1×1 conv, or linear after
 * flattening when `linearProjection`) → [N, HW, C] → transformer blocks → proj_out → back to [N, C, H, W] + x.
 */
export function transformer2d(b: GraphBuilder, x: string, name: string, o: Transformer2dOptions): string {
  const c = o.channels;
  return b.scope(name, () => {
    const normed = groupNorm(b, x, 'norm', o.groups, c, 1e-6);
    let nhwc: string;
    let h: string;
    if (o.linearProjection) {
      nhwc = b.op('Transpose', [normed], { perm: [0, 2, 3, 1] });
      h = linear(b, b.op('Reshape', [nhwc, b.ints([0, -1, c])]), 'proj_in', c, c);
    } else {
      nhwc = b.op('Transpose', [conv2d(b, normed, 'proj_in', c, c, { kernel: 1 })], { perm: [0, 2, 3, 1] });
      h = b.op('Reshape', [nhwc, b.ints([0, -1, c])]);
    }
    for (let i = 0; i < o.layers; i++) h = basicTransformerBlock(b, h, `transformer_blocks.${i}`, c, o.heads, o.context, o.contextDim);
    let out: string;
    if (o.linearProjection) {
      h = linear(b, h, 'proj_out', c, c, { gain: RESIDUAL_GAIN });
      out = b.op('Transpose', [b.op('Reshape', [h, b.op('Shape', [nhwc])])], { perm: [0, 3, 1, 2] });
    } else {
      const back = b.op('Transpose', [b.op('Reshape', [h, b.op('Shape', [nhwc])])], { perm: [0, 3, 1, 2] });
      out = conv2d(b, back, 'proj_out', c, c, { kernel: 1, gain: RESIDUAL_GAIN });
    }
    return b.op('Add', [out, x]);
  });
}
