/**
 * `macs --unet <model.onnx> | --arch sd15|sd21|sdxl --scale tiny|full; --height --width [--batch]` →
 * `{full_gmacs, shallow_gmacs: {b: N}}` per sample per U-Net evaluation, in the DeepCache paper's convention
 * (convolutions and matmuls with a weight operand); attention's activation×activation matmuls are reported apart.
 * @module
 */
import { z } from 'zod';
import { deepcacheCeiling } from '../../onnx/deepcache-ceiling.js';
import { loadModel } from '../../onnx/model-io.js';
import { buildUnet } from '../../synthetic/unet.js';
import { numeric, parseOptions, UsageError, type Command } from '../command.js';
import { unetInputDims } from './unet-dims.js';

const Options = z.strictObject({
  unet: z.string().min(1).optional(),
  arch: z.enum(['sd15', 'sd21', 'sdxl']).optional(),
  scale: z.enum(['tiny', 'full']).default('full'),
  height: numeric(z.number().int().min(64).multipleOf(8)),
  width: numeric(z.number().int().min(64).multipleOf(8)),
  batch: numeric(z.number().int().min(1).max(64)).default(1),
});

const g = (macs: number, batch: number) => Math.round((macs / batch / 1e9) * 1000) / 1000;

export const macs: Command = {
  usage: 'macs --unet <model.onnx> | --arch sd15|sd21|sdxl --scale tiny|full; --height <px> --width <px> [--batch 1]',
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        unet: { type: 'string' },
        arch: { type: 'string' },
        scale: { type: 'string' },
        height: { type: 'string' },
        width: { type: 'string' },
        batch: { type: 'string' },
      },
      Options,
    );
    if (!values.unet === !values.arch) throw new UsageError('give either --unet or --arch');
    const unet = values.unet
      ? loadModel(values.unet, { externalData: 'lazy' })
      : buildUnet(values.arch!, values.scale, { weights: 'shapes-only' });
    const dims = unetInputDims(unet, values.height, values.width, values.batch);
    const branches = deepcacheCeiling(unet, dims);
    const full = branches[0]!.full;
    const b = values.batch;
    const json = {
      full_gmacs: g(full.paper, b),
      full_attention_gmacs: g(full.attention, b),
      full_conv_gmacs: g(full.conv, b),
      full_linear_gmacs: g(full.linear, b),
      shallow_gmacs: Object.fromEntries(branches.map((x) => [String(x.branch), g(x.shallow.paper, b)])),
      shallow_attention_gmacs: Object.fromEntries(branches.map((x) => [String(x.branch), g(x.shallow.attention, b)])),
      height: values.height,
      width: values.width,
    };
    const rows = branches.map(
      (x) =>
        `  branch ${String(x.branch).padStart(2)}: ${g(x.shallow.paper, b).toFixed(2)} GMACs (+${g(x.shallow.attention, b).toFixed(2)} attention)`,
    );
    const text = [
      `full: ${json.full_gmacs} GMACs (conv ${json.full_conv_gmacs} + linear ${json.full_linear_gmacs}; +${json.full_attention_gmacs} attention)`,
      ...rows,
    ].join('\n');
    return { json, text };
  },
};
