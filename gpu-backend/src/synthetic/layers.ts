/**
 * Layer helpers over {@link GraphBuilder} emitting the op patterns torch's ONNX exporter produces for diffusers /
 * transformers modules (GroupNorm as Reshape → InstanceNormalization → Reshape → Mul → Add, Linear on 3-D inputs as
 * MatMul + Add with a transposed weight, on 2-D inputs as Gemm(transB=1), SiLU as Sigmoid · x, GELU through Erf).
 * Each helper opens the module's scope itself: `conv2d(b, x, 'conv1', …)` names its node `<scope>/conv1/Conv`.
 *
 * Random weights follow N(0, 1/fan_in) (variance preserving); `gain` shrinks output layers (residual branches) so
 * activations stay finite through the whole network.
 * @module
 */
import { DataType } from '../onnx/types.js';
import type { GraphBuilder } from './graph-builder.js';

/** Bias / norm-shift draws: small, non-zero, so a wrong wiring changes outputs. */
const BIAS_STD = 0.02;

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  readonly kernel?: number;
  readonly stride?: number;
  /** Default kernel // 2. */
  readonly padding?: number;
  /** Multiplies the N(0, 1/fan_in) std. Default 1. */
  readonly gain?: number;
}

/**
 * 2-D convolution module `name`: x [N, cin, H, W] → [N, cout, H/stride, W/stride].
 * Parameters `<name>.weight` [cout, cin, k, k], `<name>.bias` [cout].
 */
export function conv2d(b: GraphBuilder, x: string, name: string, cin: number, cout: number, options: Conv2dOptions = {}): string {
  const k = options.kernel ?? 3;
  const s = options.stride ?? 1;
  const p = options.padding ?? Math.floor(k / 2);
  return b.scope(name, () => {
    const w = b.weight('weight', [cout, cin, k, k], { kind: 'normal', std: (options.gain ?? 1) / Math.sqrt(cin * k * k) });
    const bias = b.weight('bias', [cout], { kind: 'normal', std: BIAS_STD });
    return b.op('Conv', [x, w, bias], { dilations: [1, 1], group: 1, kernel_shape: [k, k], pads: [p, p, p, p], strides: [s, s] });
  });
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Default true. */
  readonly bias?: boolean;
  /** Multiplies the N(0, 1/fan_in) std. Default 1. */
  readonly gain?: number;
}

/**
 * Linear module `name` on a 3-D (or higher) input: x [..., in] → [..., out] as MatMul with the transposed weight
 * (`<name>.weight.T` [in, out]) plus Add of `<name>.bias` [out].
 */
export function linear(b: GraphBuilder, x: string, name: string, inF: number, outF: number, options: LinearOptions = {}): string {
  return b.scope(name, () => {
    const w = b.weight('weight.T', [inF, outF], { kind: 'normal', std: (options.gain ?? 1) / Math.sqrt(inF) });
    const y = b.op('MatMul', [x, w]);
    if (options.bias === false) return y;
    return b.op('Add', [y, b.weight('bias', [outF], { kind: 'normal', std: BIAS_STD })]);
  });
}

/** Linear module `name` on a 2-D input [N, in] → [N, out] as Gemm(transB=1) with `<name>.weight` [out, in]. */
export function gemm(b: GraphBuilder, x: string, name: string, inF: number, outF: number, options: LinearOptions = {}): string {
  return b.scope(name, () => {
    const w = b.weight('weight', [outF, inF], { kind: 'normal', std: (options.gain ?? 1) / Math.sqrt(inF) });
    const bias = b.weight('bias', [outF], { kind: 'normal', std: BIAS_STD });
    return b.op('Gemm', [x, w, bias], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 });
  });
}

/**
 * GroupNorm module `name` on x [N, C, H, W] as torch exports it: Reshape [N, G, -1] → InstanceNormalization
 * (unit scale, zero bias) → Reshape back to x's shape → Mul `<name>.weight` [C,1,1] → Add `<name>.bias` [C,1,1].
 */
export function groupNorm(b: GraphBuilder, x: string, name: string, groups: number, channels: number, eps: number): string {
  if (channels % groups !== 0) throw new RangeError(`${name}: ${channels} channels do not split into ${groups} groups`);
  return b.scope(name, () => {
    const grouped = b.op('Reshape', [x, b.ints([0, groups, -1])]);
    const ones = b.constant(new Array<number>(groups).fill(1), [groups], b.floatType);
    const zeros = b.constant(new Array<number>(groups).fill(0), [groups], b.floatType);
    const normed = b.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: { float: eps } });
    const back = b.op('Reshape', [normed, b.op('Shape', [x])]);
    const gamma = b.weight('weight', [channels, 1, 1], { kind: 'normal', std: BIAS_STD, mean: 1 });
    const beta = b.weight('bias', [channels, 1, 1], { kind: 'normal', std: BIAS_STD });
    return b.op('Add', [b.op('Mul', [back, gamma]), beta]);
  });
}

/** LayerNorm module `name` over the last axis (opset 17 LayerNormalization), `<name>.weight`/`.bias` [dim]. */
export function layerNorm(b: GraphBuilder, x: string, name: string, dim: number, eps: number): string {
  return b.scope(name, () => {
    const gamma = b.weight('weight', [dim], { kind: 'normal', std: BIAS_STD, mean: 1 });
    const beta = b.weight('bias', [dim], { kind: 'normal', std: BIAS_STD });
    return b.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: eps } });
  });
}

/** SiLU module `name`: x · sigmoid(x). */
export function silu(b: GraphBuilder, x: string, name: string): string {
  return b.scope(name, () => b.op('Mul', [x, b.op('Sigmoid', [x])]));
}

/** Exact GELU module `name`: x · ½(1 + erf(x/√2)), as torch exports it below opset 20. */
export function gelu(b: GraphBuilder, x: string, name: string): string {
  return b.scope(name, () => {
    const erf = b.op('Erf', [b.op('Div', [x, b.scalar(Math.SQRT2)])]);
    const y = b.op('Mul', [x, b.op('Add', [erf, b.scalar(1)])]);
    return b.op('Mul', [y, b.scalar(0.5)]);
  });
}

/** quick_gelu module `name` (CLIP ViT-L): x · sigmoid(1.702 x). */
export function quickGelu(b: GraphBuilder, x: string, name: string): string {
  return b.scope(name, () => b.op('Mul', [x, b.op('Sigmoid', [b.op('Mul', [x, b.scalar(1.702)])])]));
}

/** Options of {@link attention}. */
export interface AttentionOptions {
  readonly heads: number;
  readonly headDim: number;
  /** Width of the key/value source (the context); default the query width. */
  readonly contextDim?: number;
  /** Q/K/V projections with bias (CLIP, VAE) or without (diffusers' transformer blocks). */
  readonly qkvBias: boolean;
  readonly names?: { readonly q: string; readonly k: string; readonly v: string; readonly out: string };
  /** Additive mask broadcast to the scores [N, heads, L, S] (CLIP's causal mask). */
  readonly mask?: string;
  /** Gain of the output projection. Default 1. */
  readonly outGain?: number;
}

/**
 * Multi-head attention inside the current scope: x [N, L, dim], context [N, S, contextDim] (or x) →
 * Q/K/V linear, reshape [N, L, heads, headDim] → Transpose to [N, heads, L, headDim], QKᵀ · headDim^-½,
 * Softmax, · V, back to [N, L, heads·headDim], output linear → [N, L, dim].
 */
export function attention(b: GraphBuilder, x: string, context: string | null, dim: number, options: AttentionOptions): string {
  const { heads, headDim } = options;
  const inner = heads * headDim;
  const ctxDim = options.contextDim ?? dim;
  const names = options.names ?? { q: 'to_q', k: 'to_k', v: 'to_v', out: 'to_out.0' };
  const src = context ?? x;
  const bias = options.qkvBias;
  const q = linear(b, x, names.q, dim, inner, { bias });
  const k = linear(b, src, names.k, ctxDim, inner, { bias });
  const v = linear(b, src, names.v, ctxDim, inner, { bias });
  const split = (t: string, perm: number[]): string => b.op('Transpose', [b.op('Reshape', [t, b.ints([0, 0, heads, headDim])])], { perm });
  const qh = split(q, [0, 2, 1, 3]);
  const kt = split(k, [0, 2, 3, 1]);
  const vh = split(v, [0, 2, 1, 3]);
  let scores = b.op('Mul', [b.op('MatMul', [qh, kt]), b.scalar(1 / Math.sqrt(headDim))]);
  if (options.mask) scores = b.op('Add', [scores, options.mask]);
  const probs = b.op('Softmax', [scores], { axis: -1 });
  const ctx = b.op('MatMul', [probs, vh]);
  const merged = b.op('Reshape', [b.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), b.ints([0, 0, inner])]);
  return linear(b, merged, names.out, inner, dim, { gain: options.outGain ?? 1 });
}

/** Upsample2D module `name`: nearest ×2 (Resize) then `conv` 3×3. x [N, C, H, W] → [N, C, 2H, 2W]. */
export function upsample2d(b: GraphBuilder, x: string, name: string, channels: number): string {
  return b.scope(name, () => {
    const scales = b.constant([1, 1, 2, 2], [4], DataType.FLOAT);
    const up = b.op('Resize', [x, '', scales], {
      coordinate_transformation_mode: 'asymmetric',
      mode: 'nearest',
      nearest_mode: 'floor',
    });
    return conv2d(b, up, 'conv', channels, channels);
  });
}

/** Downsample2D module `name`: `conv` 3×3 stride 2 padding 1. x [N, C, H, W] → [N, C, H/2, W/2]. */
export function downsample2d(b: GraphBuilder, x: string, name: string, channels: number): string {
  return b.scope(name, () => conv2d(b, x, 'conv', channels, channels, { stride: 2, padding: 1 }));
}

/**
 * diffusers' sinusoidal `Timesteps` module `name` with flip_sin_to_cos=True, downscale_freq_shift=0 (as SD):
 * t [N] (any float type) → [N, dim] float32 = concat(cos(t·f), sin(t·f)), f_i = exp(−ln(10000)·i/(dim/2)).
 */
export function timestepProj(b: GraphBuilder, t: string, name: string, dim: number): string {
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  return b.scope(name, () => {
    const t2 = b.op('Cast', [b.op('Unsqueeze', [t, b.ints([1])])], { to: DataType.FLOAT });
    const arg = b.op('Mul', [t2, b.constant(freqs, [1, half], DataType.FLOAT)]);
    return b.op('Concat', [b.op('Cos', [arg]), b.op('Sin', [arg])], { axis: -1 });
  });
}
