/** `split --unet <model.onnx> --branch <b> --out <dir>`: writes `full.onnx` and `shallow.onnx` for one DeepCache branch. @module */
import { copyFile, link, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { splitUnetForDeepCache } from '../../onnx/deepcache-split.js';
import { externalDataRef } from '../../onnx/external-data.js';
import { loadModel, saveModel } from '../../onnx/model-io.js';
import { numeric, parseOptions, type Command } from '../command.js';

const Options = z.strictObject({
  unet: z.string().min(1),
  branch: numeric(z.number().int().min(0)),
  out: z.string().min(1),
});

export const split: Command = {
  usage: 'split --unet <model.onnx> --branch <b> --out <dir>',
  async run(argv, ctx) {
    const { values } = parseOptions(argv, { unet: { type: 'string' }, branch: { type: 'string' }, out: { type: 'string' } }, Options);
    const unet = loadModel(values.unet, { externalData: 'lazy' });
    const { full, shallow, info } = splitUnetForDeepCache(unet, values.branch);
    const out = path.resolve(values.out);
    await mkdir(out, { recursive: true });
    // The graphs keep the U-Net's external-data references, so its weight files must sit beside them: a hard link
    // (onnxruntime refuses symbolic links leading out of a model's folder), or a copy across file systems.
    const dataFiles = new Set(unet.graph.initializer.flatMap((t) => externalDataRef(t)?.location ?? []));
    let weights: 'none' | 'hard-linked' | 'copied' = 'none';
    for (const f of dataFiles) {
      const target = path.join(out, f);
      if (existsSync(target)) continue;
      const source = path.resolve(path.dirname(values.unet), f);
      try {
        await link(source, target);
        weights = 'hard-linked';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        ctx.progress(`${f}: ${out} is on another file system, copying the weights`);
        await copyFile(source, target);
        weights = 'copied';
      }
    }
    saveModel(full, path.join(out, 'full.onnx'));
    saveModel(shallow, path.join(out, 'shallow.onnx'));
    const json = {
      branch: info.branch,
      branch_count: info.branchCount,
      concat_node: info.concatNode,
      cached_tensor: info.cachedTensor,
      found_by: info.foundBy,
      full_nodes: info.fullNodeCount,
      shallow_nodes: info.shallowNodeCount,
      shallow_inputs: info.shallowInputs,
      weights,
      out,
    };
    return {
      json,
      text: `branch ${info.branch} of 0–${info.branchCount - 1}: cached ${info.cachedTensor} at ${info.concatNode}\nwrote ${out}/full.onnx (${info.fullNodeCount} nodes) and shallow.onnx (${info.shallowNodeCount} nodes)`,
    };
  },
};
