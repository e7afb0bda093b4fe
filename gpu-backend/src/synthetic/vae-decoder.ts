/**
 * Synthetic `AutoencoderKL` decoder graph (`vae.decode`: post_quant_conv + decoder) with Optimum's I/O:
 * input `latent_sample` [B, 4, h, w] (already divided by the scaling factor), output `sample` [B, 3, 8h, 8w].
 * @module
 */
import type { ModelProto } from '../onnx/types.js';
import { GraphBuilder, type FloatKind } from './graph-builder.js';
import { conv2d, groupNorm, silu, upsample2d } from './layers.js';
import { vaeMidBlock, vaeResnet } from './vae-blocks.js';
import type { SyntheticScale } from './unet-config.js';

/** Hyper-parameters of the decoder (diffusers `AutoencoderKL` config terms). */
export interface VaeSpec {
  readonly blockOutChannels: readonly number[];
  readonly layersPerBlock: number;
  readonly normNumGroups: number;
}

/** SD's VAE (128, 256, 512, 512), and a narrow one with the same structure. */
export const VAE_SPECS: Readonly<Record<SyntheticScale, VaeSpec>> = {
  full: { blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, normNumGroups: 32 },
  tiny: { blockOutChannels: [16, 32, 32, 32], layersPerBlock: 2, normNumGroups: 8 },
};

/** Options of {@link buildVaeDecoder}. */
export interface BuildVaeOptions {
  readonly seed?: number;
  readonly float?: FloatKind;
}

/** Builds the decoder: post_quant_conv → conv_in → mid (resnet, attention, resnet) → 4 up blocks → norm, SiLU, conv_out. */
export function buildVaeDecoder(spec: VaeSpec, options: BuildVaeOptions = {}): ModelProto {
  const b = new GraphBuilder({ seed: options.seed ?? 0, float: options.float ?? 'float32' });
  const ft = b.floatType;
  const groups = spec.normNumGroups;
  const eps = 1e-6;
  const rev = [...spec.blockOutChannels].reverse();
  const resnet = (x: string, name: string, cin: number, cout: number): string => vaeResnet(b, x, name, cin, cout, groups, eps);
  const latent = b.input('latent_sample', ft, ['batch_size', 4, 'latent_height', 'latent_width']);
  const z = conv2d(b, latent, 'post_quant_conv', 4, 4, { kernel: 1 });
  const out = b.scope('decoder', () => {
    const top = rev[0]!;
    let h = conv2d(b, z, 'conv_in', 4, top);
    h = vaeMidBlock(b, h, top, groups, eps);
    let prev = top;
    rev.forEach((cOut, i) => {
      h = b.scope(`up_blocks.${i}`, () => {
        let x = h;
        for (let j = 0; j <= spec.layersPerBlock; j++) x = resnet(x, `resnets.${j}`, j === 0 ? prev : cOut, cOut);
        return i < rev.length - 1 ? upsample2d(b, x, 'upsamplers.0', cOut) : x;
      });
      prev = cOut;
    });
    const c0 = spec.blockOutChannels[0]!;
    return conv2d(b, silu(b, groupNorm(b, h, 'conv_norm_out', groups, c0, eps), 'conv_act'), 'conv_out', c0, 3);
  });
  b.output(out, 'sample', ft, ['batch_size', 3, 'height', 'width']);
  return b.build('vae_decoder');
}

/** The diffusers `config.json` of the VAE (`scaling_factor` 0.18215 for SD 1.x/2.x, 0.13025 for SDXL). */
export function vaeConfigJson(spec: VaeSpec, scalingFactor: number, sampleSize: number): Record<string, unknown> {
  const n = spec.blockOutChannels.length;
  return {
    _class_name: 'AutoencoderKL',
    _diffusers_version: '0.30.3',
    act_fn: 'silu',
    block_out_channels: [...spec.blockOutChannels],
    down_block_types: new Array<string>(n).fill('DownEncoderBlock2D'),
    force_upcast: true,
    in_channels: 3,
    latent_channels: 4,
    layers_per_block: spec.layersPerBlock,
    mid_block_add_attention: true,
    norm_num_groups: spec.normNumGroups,
    out_channels: 3,
    sample_size: sampleSize,
    scaling_factor: scalingFactor,
    up_block_types: new Array<string>(n).fill('UpDecoderBlock2D'),
    use_post_quant_conv: true,
    use_quant_conv: true,
  };
}
