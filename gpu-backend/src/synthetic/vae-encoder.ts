/**
 * Synthetic `AutoencoderKL` encoder graph (`vae.encode(x).latent_dist.parameters`: encoder + quant_conv) with
 * Optimum's I/O: input `sample` [B, 3, H, W] in [-1, 1], output `latent_parameters` [B, 8, H/8, W/8] = mean ‖
 * logvar (raw: the pipeline clamps logvar). Same spec as the decoder ({@link VaeSpec}).
 * @module
 */
import type { ModelProto } from '../onnx/types.js';
import { GraphBuilder } from './graph-builder.js';
import { conv2d, downsample2d, groupNorm, silu } from './layers.js';
import { vaeMidBlock, vaeResnet } from './vae-blocks.js';
import type { BuildVaeOptions, VaeSpec } from './vae-decoder.js';

/** Builds the encoder: conv_in → 4 down blocks (downsampling but the last) → mid (resnet, attention, resnet) → norm, SiLU, conv_out → quant_conv. */
export function buildVaeEncoder(spec: VaeSpec, options: BuildVaeOptions = {}): ModelProto {
  const b = new GraphBuilder({ seed: options.seed ?? 0, float: options.float ?? 'float32' });
  const ft = b.floatType;
  const groups = spec.normNumGroups;
  const eps = 1e-6;
  const chans = spec.blockOutChannels;
  const resnet = (x: string, name: string, cin: number, cout: number): string => vaeResnet(b, x, name, cin, cout, groups, eps);
  const sample = b.input('sample', ft, ['batch_size', 'num_channels', 'height', 'width']);
  const moments = b.scope('encoder', () => {
    let h = conv2d(b, sample, 'conv_in', 3, chans[0]!);
    let prev = chans[0]!;
    chans.forEach((cOut, i) => {
      h = b.scope(`down_blocks.${i}`, () => {
        let x = h;
        for (let j = 0; j < spec.layersPerBlock; j++) x = resnet(x, `resnets.${j}`, j === 0 ? prev : cOut, cOut);
        return i < chans.length - 1 ? downsample2d(b, x, 'downsamplers.0', cOut) : x;
      });
      prev = cOut;
    });
    const top = chans[chans.length - 1]!;
    h = vaeMidBlock(b, h, top, groups, eps);
    // small output gain: a random encoder's logvar stays near 0 (std ≈ 1), as a trained one is far from the clamp
    return conv2d(b, silu(b, groupNorm(b, h, 'conv_norm_out', groups, top, eps), 'conv_act'), 'conv_out', top, 8, { gain: 0.5 });
  });
  const params = conv2d(b, moments, 'quant_conv', 8, 8, { kernel: 1 });
  b.output(params, 'latent_parameters', ft, ['batch_size', 8, 'height_latent', 'width_latent']);
  return b.build('vae_encoder');
}
