/** `make-model --arch sd15|sd21|sdxl --scale tiny|full [--fp16] [--seed N] --out <dir>`: a synthetic model directory. @module */
import { z } from 'zod';
import { makeModelDirectory } from '../../synthetic/model-directory.js';
import { numeric, parseOptions, type Command } from '../command.js';

const Options = z.strictObject({
  arch: z.enum(['sd15', 'sd21', 'sdxl']),
  scale: z.enum(['tiny', 'full']).default('tiny'),
  fp16: z.boolean().default(false),
  seed: numeric(z.number().int().min(0)).default(0),
  out: z.string().min(1),
});

export const makeModel: Command = {
  usage: 'make-model --arch sd15|sd21|sdxl --scale tiny|full [--fp16] [--seed 0] --out <dir>',
  async run(argv, ctx) {
    const { values } = parseOptions(
      argv,
      { arch: { type: 'string' }, scale: { type: 'string' }, fp16: { type: 'boolean' }, seed: { type: 'string' }, out: { type: 'string' } },
      Options,
    );
    const t0 = performance.now();
    if (values.scale === 'full') ctx.progress(`building a full-size ${values.arch} model directory (minutes, several GB)…`);
    const result = await makeModelDirectory({
      arch: values.arch,
      scale: values.scale,
      fp16: values.fp16,
      seed: values.seed,
      out: values.out,
    });
    const seconds = (performance.now() - t0) / 1000;
    return {
      json: { dir: result.dir, files: result.files, seconds },
      text: `wrote ${result.dir} (${result.files.length} files) in ${seconds.toFixed(1)} s`,
    };
  },
};
