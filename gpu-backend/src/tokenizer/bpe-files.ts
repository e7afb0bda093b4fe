/**
 * Reading and writing CLIP BPE vocabularies: Hugging Face tokenizer folders (`vocab.json`, `merges.txt`,
 * `special_tokens_map.json`, `tokenizer_config.json`) and CLIP's own `bpe_simple_vocab_16e6.txt.gz`.
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { BYTE_SYMBOL_ORDER, BYTE_TO_SYMBOL } from './byte-encoder.js';

/** CLIP's start-of-text token and its id in the 49408-entry vocabulary. */
export const START_OF_TEXT = '<|startoftext|>';
/** CLIP's end-of-text token (also SD 1.x's pad token). */
export const END_OF_TEXT = '<|endoftext|>';
/** Number of merges CLIP uses from `bpe_simple_vocab_16e6.txt.gz` (49152 − 256 − 2). */
const CLIP_MERGE_COUNT = 48894;

/** A BPE vocabulary: token → id, merges in rank order, and the pad token named by the folder's config. */
export interface BpeModel {
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge pairs, rank = index (lower merges first). */
  readonly merges: readonly (readonly [string, string])[];
  /** `pad_token` from special_tokens_map.json / tokenizer_config.json; `undefined` when no config names one. */
  readonly padToken: string | undefined;
}

/** A tokenizer file is missing or malformed. The message names the file. */
export class TokenizerFilesError extends Error {
  override readonly name = 'TokenizerFilesError';
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}

/**
 * Builds CLIP's vocabulary from the merges file text, as openai/CLIP's `SimpleTokenizer` does: the 256 byte
 * symbols, the same with `</w>`, one token per merge (the first 48894 merge lines after the header), then
 * `<|startoftext|>` (49406) and `<|endoftext|>` (49407).
 */
function bpeModelFromMergesText(text: string, mergeCount = CLIP_MERGE_COUNT): BpeModel {
  const lines = text.split('\n').slice(1, mergeCount + 1);
  if (lines.length !== mergeCount) throw new RangeError(`expected ${mergeCount} merge lines, found ${lines.length}`);
  const merges = lines.map((line, i) => parseMerge(line, `merge line ${i + 2}`));
  const tokens: string[] = BYTE_SYMBOL_ORDER.map((b) => BYTE_TO_SYMBOL[b]!);
  tokens.push(...tokens.map((t) => `${t}</w>`));
  for (const [a, b] of merges) tokens.push(a + b);
  tokens.push(START_OF_TEXT, END_OF_TEXT);
  return { vocab: new Map(tokens.map((t, id) => [t, id])), merges, padToken: undefined };
}

/** Reads CLIP's gzip-compressed merges file (`bpe_simple_vocab_16e6.txt.gz`) into a {@link BpeModel}. */
export async function loadBpeGz(file: string): Promise<BpeModel> {
  let text: string;
  try {
    text = gunzipSync(await readFile(file)).toString('utf8');
  } catch (cause) {
    throw new TokenizerFilesError(file, 'cannot read gzip merges file', { cause });
  }
  try {
    return bpeModelFromMergesText(text);
  } catch (cause) {
    throw new TokenizerFilesError(file, (cause as Error).message, { cause });
  }
}

function parseMerge(line: string, where: string): [string, string] {
  const parts = line.split(' ');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new RangeError(`${where} is not "a b": ${JSON.stringify(line)}`);
  return [parts[0], parts[1]];
}

/** A special token is either a plain string or an AddedToken object `{content, …}`. */
const SpecialToken = z.union([z.string(), z.object({ content: z.string() })]).nullish();
const TokenConfigJson = z.looseObject({ pad_token: SpecialToken });

async function readJsonFile(file: string, optional: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (optional && (cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenizerFilesError(file, 'cannot read file', { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TokenizerFilesError(file, 'is not valid JSON', { cause });
  }
}

async function readPadToken(file: string): Promise<string | undefined> {
  const json = await readJsonFile(file, true);
  if (json === undefined) return undefined;
  const parsed = TokenConfigJson.safeParse(json);
  if (!parsed.success) throw new TokenizerFilesError(file, `pad_token: ${parsed.error.issues[0]?.message}`);
  const pad = parsed.data.pad_token;
  return typeof pad === 'string' ? pad : (pad?.content ?? undefined);
}

/**
 * Reads a Hugging Face CLIP tokenizer folder: `vocab.json` and `merges.txt` (required), and the pad token from
 * `special_tokens_map.json`, else `tokenizer_config.json` (optional; `"<|endoftext|>"` for SD 1.x, `"!"` for SD 2.x
 * and SDXL's second tokenizer).
 * @throws TokenizerFilesError naming the missing or malformed file
 */
export async function loadHfTokenizerFiles(dir: string): Promise<BpeModel> {
  const vocabFile = path.join(dir, 'vocab.json');
  const vocabJson = await readJsonFile(vocabFile, false);
  // Checked by hand rather than with a zod record: 49408 entries, and this runs on every model load.
  if (typeof vocabJson !== 'object' || vocabJson === null || Array.isArray(vocabJson)) {
    throw new TokenizerFilesError(vocabFile, 'expected an object of token → integer id');
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(vocabJson)) {
    if (!Number.isInteger(id) || (id as number) < 0)
      throw new TokenizerFilesError(vocabFile, `id of ${JSON.stringify(token)} is not a non-negative integer`);
    vocab.set(token, id as number);
  }
  for (const special of [START_OF_TEXT, END_OF_TEXT]) {
    if (!vocab.has(special)) throw new TokenizerFilesError(vocabFile, `has no ${special} token`);
  }

  const mergesFile = path.join(dir, 'merges.txt');
  let mergesText: string;
  try {
    mergesText = await readFile(mergesFile, 'utf8');
  } catch (cause) {
    throw new TokenizerFilesError(mergesFile, 'cannot read file', { cause });
  }
  const lines = mergesText.split(/\r?\n/);
  const merges: [string, string][] = [];
  lines.forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    try {
      merges.push(parseMerge(line, `line ${i + 1}`));
    } catch (cause) {
      throw new TokenizerFilesError(mergesFile, (cause as Error).message, { cause });
    }
  });
  if (merges.length === 0) throw new TokenizerFilesError(mergesFile, 'has no merges');
  // Like CLIP's tokenizers (openai and Hugging Face alike), only the first 48894 merges are used.
  merges.length = Math.min(merges.length, CLIP_MERGE_COUNT);

  const padToken =
    (await readPadToken(path.join(dir, 'special_tokens_map.json'))) ?? (await readPadToken(path.join(dir, 'tokenizer_config.json')));
  if (padToken !== undefined && !vocab.has(padToken)) {
    throw new TokenizerFilesError(dir, `pad_token ${JSON.stringify(padToken)} is not in vocab.json`);
  }
  return { vocab, merges, padToken };
}

/** Options for {@link writeHfTokenizerFiles}. */
export interface WriteHfTokenizerOptions {
  /** Pad token to record: `"<|endoftext|>"` (SD 1.x, SDXL encoder 1, the default) or `"!"` (id 0; SD 2.x, SDXL encoder 2). */
  readonly padToken?: string;
}

/**
 * Writes a Hugging Face CLIP tokenizer folder (`vocab.json`, `merges.txt`, `special_tokens_map.json`,
 * `tokenizer_config.json`) built from CLIP's `bpe_simple_vocab_16e6.txt.gz`.
 * @param dir folder to create or overwrite files in
 * @param fromBpeGz path of `bpe_simple_vocab_16e6.txt.gz`
 */
export async function writeHfTokenizerFiles(dir: string, fromBpeGz: string, options: WriteHfTokenizerOptions = {}): Promise<void> {
  const model = await loadBpeGz(fromBpeGz);
  const padToken = options.padToken ?? END_OF_TEXT;
  if (!model.vocab.has(padToken)) throw new RangeError(`pad token ${JSON.stringify(padToken)} is not in the vocabulary`);
  await mkdir(dir, { recursive: true });
  const special = {
    bos_token: START_OF_TEXT,
    eos_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
    pad_token: padToken,
  };
  const config = {
    ...special,
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: 77,
    do_lower_case: true,
    errors: 'replace',
    add_prefix_space: false,
  };
  await Promise.all([
    writeFile(path.join(dir, 'vocab.json'), JSON.stringify(Object.fromEntries(model.vocab))),
    writeFile(path.join(dir, 'merges.txt'), `#version: 0.2\n${model.merges.map(([a, b]) => `${a} ${b}`).join('\n')}\n`),
    writeFile(path.join(dir, 'special_tokens_map.json'), `${JSON.stringify(special, null, 2)}\n`),
    writeFile(path.join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`),
  ]);
}
