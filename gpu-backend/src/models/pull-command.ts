/**
 * The `pull` command of the cli: `pull <owner/name> [--revision R] [--cache-dir DIR] [--hub-url URL]
 * [--include-vae-encoder]`. The token comes from env `HF_TOKEN` only (never a flag, so it stays out of
 * process listings and shell history). The cli entry point dispatches `pull` here.
 * @module
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { PullError, pullModel, type PullProgress } from './pull.js';
import { REPO_ID } from './pull-files.js';

/** Where the command writes and reads its environment (injectable for tests). */
export interface CommandIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const defaultIo: CommandIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

const PullArgs = z.strictObject({
  repo: z.string().regex(REPO_ID, 'repository must be owner/name'),
  revision: z.string().min(1).default('main'),
  cacheDir: z.string().min(1),
  hubUrl: z.url().optional(),
  includeVaeEncoder: z.boolean().default(false),
});

/** Usage line printed on bad arguments. */
export const PULL_USAGE =
  'usage: pull <owner/name> [--revision <branch|tag|commit>] [--cache-dir <dir> (default $MODEL_CACHE_DIR or ./models)] [--hub-url <url>] [--include-vae-encoder]';

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);

/**
 * Runs `pull` and prints the model directory on stdout; progress and errors go to stderr.
 * @returns the process exit code: 0 done, 1 pull failed, 2 bad arguments
 */
export async function runPullCommand(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  let args: z.infer<typeof PullArgs>;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        revision: { type: 'string' },
        'cache-dir': { type: 'string' },
        'hub-url': { type: 'string' },
        'include-vae-encoder': { type: 'boolean' },
      },
    });
    if (positionals.length !== 1) throw new Error('expected exactly one repository');
    args = PullArgs.parse({
      repo: positionals[0],
      revision: values.revision,
      cacheDir: values['cache-dir'] ?? io.env.MODEL_CACHE_DIR ?? 'models',
      hubUrl: values['hub-url'],
      includeVaeEncoder: values['include-vae-encoder'],
    });
  } catch (e) {
    const detail = e instanceof z.ZodError ? e.issues.map((i) => i.message).join('; ') : (e as Error).message;
    io.stderr(`pull: ${detail}`);
    io.stderr(PULL_USAGE);
    return 2;
  }

  let lastPercent = -1;
  const onProgress = (p: PullProgress): void => {
    if (p.event === 'progress') {
      const percent = p.bytesTotal === 0 ? 100 : Math.floor((100 * p.bytesDone) / p.bytesTotal);
      if (percent === lastPercent) return;
      lastPercent = percent;
    }
    if (p.event !== 'progress') io.stderr(`${p.event} ${p.file} (${mib(p.fileSize)} MiB)`);
    else if (lastPercent % 5 === 0) io.stderr(`${lastPercent}% ${mib(p.bytesDone)}/${mib(p.bytesTotal)} MiB`);
  };
  try {
    const result = await pullModel({
      repo: args.repo,
      revision: args.revision,
      cacheDir: args.cacheDir,
      hubUrl: args.hubUrl,
      token: io.env.HF_TOKEN,
      includeVaeEncoder: args.includeVaeEncoder,
      onProgress,
    });
    io.stdout(result.dir);
    return 0;
  } catch (e) {
    if (!(e instanceof PullError) && !(e instanceof RangeError)) throw e;
    io.stderr(`pull failed: ${e.message}`);
    return 1;
  }
}
