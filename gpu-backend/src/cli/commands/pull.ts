/** `pull <repo id> [--revision <rev>] [--cache <dir>]`: downloads an ONNX SD repository from the Hub. @module */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { pullModel } from '../../models/pull.js';
import { parseOptions, UsageError, type Command } from '../command.js';

const Options = z.strictObject({
  revision: z.string().min(1).optional(),
  cache: z.string().min(1).optional(),
  'hub-url': z.url().optional(),
});

/** Default model cache: `$MODEL_CACHE_DIR`, else `~/.cache/deepcache-image-api/models`. */
function defaultModelCache(): string {
  return process.env.MODEL_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'deepcache-image-api', 'models');
}

export const pull: Command = {
  usage: 'pull <repo id> [--revision <rev>] [--cache <dir>] [--hub-url <url>]   (token from HF_TOKEN)',
  async run(argv, ctx) {
    const { values, positionals } = parseOptions(
      argv,
      { revision: { type: 'string' }, cache: { type: 'string' }, 'hub-url': { type: 'string' } },
      Options,
    );
    if (positionals.length !== 1) throw new UsageError('give exactly one repository id, e.g. owner/name');
    let lastReport = 0;
    const result = await pullModel({
      repo: positionals[0]!,
      cacheDir: values.cache ?? defaultModelCache(),
      ...(values.revision ? { revision: values.revision } : {}),
      ...(values['hub-url'] ? { hubUrl: values['hub-url'] } : {}),
      onProgress: (p) => {
        const now = Date.now();
        if (p.event !== 'progress' || now - lastReport > 1000) {
          lastReport = now;
          ctx.progress(`${p.event} ${p.file} ${(p.bytesDone / 2 ** 20).toFixed(1)}/${(p.bytesTotal / 2 ** 20).toFixed(1)} MiB`);
        }
      },
    });
    const counts = { downloaded: 0, resumed: 0, skipped: 0 };
    for (const f of result.files) counts[f.action]++;
    return {
      json: { dir: result.dir, files: result.files.length, ...counts },
      text: `model directory: ${result.dir} (${result.files.length} files: ${JSON.stringify(counts)})`,
    };
  },
};
