/**
 * Synthetic CLIP text encoders with Optimum's output names: `CLIPTextModel` (SD 1.x CLIP ViT-L, SD 2.x OpenCLIP-H
 * exported with 23 of its 24 layers, SDXL encoder 1 with `hidden_states.N`) and `CLIPTextModelWithProjection`
 * (SDXL encoder 2: `text_embeds`, `last_hidden_state`, `hidden_states.N`). Input `input_ids` int32 [B, 77];
 * causal self-attention; `pooler_output` is the final-layer-normed state at the argmax token id (the EOS position).
 * @module
 */
import type { ModelProto } from '../onnx/types.js';
import { DataType } from '../onnx/types.js';
import { GraphBuilder, type FloatKind } from './graph-builder.js';
import { attention, gelu, layerNorm, linear, quickGelu } from './layers.js';
import type { SyntheticArch, SyntheticScale } from './unet-config.js';

/** CLIP's vocabulary size and context length. */
export const CLIP_VOCAB_SIZE = 49408;
export const CLIP_MAX_LENGTH = 77;

/** Hyper-parameters of one text encoder (transformers `CLIPTextConfig` terms). */
export interface ClipTextSpec {
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediateSize: number;
  readonly act: 'quick_gelu' | 'gelu';
  /** `CLIPTextModelWithProjection`: width of `text_embeds`. */
  readonly projectionDim?: number;
  /** Export `hidden_states.0 … hidden_states.N` (SDXL encoders). */
  readonly hiddenStates: boolean;
}

const clipL = (hiddenStates: boolean): ClipTextSpec => ({
  hiddenSize: 768,
  layers: 12,
  heads: 12,
  intermediateSize: 3072,
  act: 'quick_gelu',
  hiddenStates,
});
const tiny = (hiddenSize: number, act: ClipTextSpec['act'], hiddenStates: boolean, projectionDim?: number): ClipTextSpec => ({
  hiddenSize,
  layers: 2,
  heads: 2,
  intermediateSize: hiddenSize * 2,
  act,
  hiddenStates,
  ...(projectionDim ? { projectionDim } : {}),
});

/** Text encoders per (arch, scale): `text_encoder` and, for SDXL, `text_encoder_2`. */
export const TEXT_ENCODER_SPECS: Readonly<Record<SyntheticArch, Readonly<Record<SyntheticScale, readonly ClipTextSpec[]>>>> = {
  sd15: { full: [clipL(false)], tiny: [tiny(32, 'quick_gelu', false)] },
  sd21: {
    full: [{ hiddenSize: 1024, layers: 23, heads: 16, intermediateSize: 4096, act: 'gelu', hiddenStates: false }],
    tiny: [tiny(32, 'gelu', false)],
  },
  sdxl: {
    full: [
      clipL(true),
      { hiddenSize: 1280, layers: 32, heads: 20, intermediateSize: 5120, act: 'gelu', projectionDim: 1280, hiddenStates: true },
    ],
    tiny: [tiny(16, 'quick_gelu', true), tiny(16, 'gelu', true, 16)],
  },
};

/** Options of {@link buildClipTextEncoder}. */
export interface BuildClipOptions {
  readonly seed?: number;
  readonly float?: FloatKind;
}

/**
 * Builds a CLIP text encoder graph. Outputs (Optimum names): `last_hidden_state` [B, 77, hidden], then either
 * `pooler_output` [B, hidden] (CLIPTextModel) or `text_embeds` [B, projectionDim] first (WithProjection), then
 * `hidden_states.0 … hidden_states.<layers>` [B, 77, hidden] when asked for.
 */
export function buildClipTextEncoder(spec: ClipTextSpec, options: BuildClipOptions = {}): ModelProto {
  const b = new GraphBuilder({ seed: options.seed ?? 0, float: options.float ?? 'float32' });
  const ft = b.floatType;
  const d = spec.hiddenSize;
  const L = CLIP_MAX_LENGTH;
  const ids = b.input('input_ids', DataType.INT32, ['batch_size', L]);
  const hidden: string[] = [];
  const final = b.scope('text_model', () => {
    let h = b.scope('embeddings', () => {
      const tok = b.scope('token_embedding', () =>
        b.op('Gather', [b.weight('weight', [CLIP_VOCAB_SIZE, d], { kind: 'normal', std: 1 }), ids], { axis: 0 }),
      );
      const pos = b.weight('position_embedding.weight', [L, d], { kind: 'normal', std: 0.1 });
      return b.op('Add', [tok, pos]);
    });
    const minValue = options.float === 'float16' ? -65504 : -3.4028234663852886e38;
    const causal = Array.from({ length: L * L }, (_, k) => (k % L > Math.floor(k / L) ? minValue : 0));
    const mask = b.constant(causal, [1, 1, L, L], ft);
    b.scope('encoder', () => {
      for (let i = 0; i < spec.layers; i++) {
        hidden.push(h);
        h = b.scope(`layers.${i}`, () => {
          const n1 = layerNorm(b, h, 'layer_norm1', d, 1e-5);
          const a = b.scope('self_attn', () =>
            attention(b, n1, null, d, {
              heads: spec.heads,
              headDim: d / spec.heads,
              qkvBias: true,
              mask,
              names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', out: 'out_proj' },
            }),
          );
          const r = b.op('Add', [h, a]);
          const n2 = layerNorm(b, r, 'layer_norm2', d, 1e-5);
          const m = b.scope('mlp', () => {
            const f1 = linear(b, n2, 'fc1', d, spec.intermediateSize);
            const act = spec.act === 'gelu' ? gelu(b, f1, 'activation_fn') : quickGelu(b, f1, 'activation_fn');
            return linear(b, act, 'fc2', spec.intermediateSize, d, { gain: 0.5 });
          });
          return b.op('Add', [r, m]);
        });
      }
    });
    hidden.push(h);
    return layerNorm(b, h, 'final_layer_norm', d, 1e-5);
  });
  // pooled = final state at the argmax token id (CLIP's EOS has the highest id)
  const eos = b.op('ArgMax', [b.op('Cast', [ids], { to: DataType.FLOAT })], { axis: -1, keepdims: 1 });
  const pooled = b.op('GatherND', [final, eos], { batch_dims: 1 });
  if (spec.projectionDim !== undefined) {
    const proj = linear(b, pooled, 'text_projection', d, spec.projectionDim, { bias: false });
    b.output(proj, 'text_embeds', ft, ['batch_size', spec.projectionDim]);
    b.output(final, 'last_hidden_state', ft, ['batch_size', L, d]);
  } else {
    b.output(final, 'last_hidden_state', ft, ['batch_size', L, d]);
    b.output(pooled, 'pooler_output', ft, ['batch_size', d]);
  }
  if (spec.hiddenStates) {
    hidden.forEach((t, i) => {
      b.output(t, `hidden_states.${i}`, ft, ['batch_size', L, d]);
    });
  }
  return b.build('text_encoder');
}

/** transformers' `config.json` of a text encoder (what model loaders read: widths, layers, projection). */
export function textEncoderConfigJson(spec: ClipTextSpec): Record<string, unknown> {
  return {
    _name_or_path: 'synthetic',
    architectures: [spec.projectionDim !== undefined ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
    model_type: 'clip_text_model',
    hidden_act: spec.act,
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_attention_heads: spec.heads,
    num_hidden_layers: spec.layers,
    max_position_embeddings: CLIP_MAX_LENGTH,
    vocab_size: CLIP_VOCAB_SIZE,
    layer_norm_eps: 1e-5,
    projection_dim: spec.projectionDim ?? spec.hiddenSize,
    bos_token_id: 49406,
    eos_token_id: 49407,
    pad_token_id: 1,
    torch_dtype: 'float32',
  };
}
