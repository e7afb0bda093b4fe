/**
 * CLIP's BPE tokenizer (openai/CLIP `SimpleTokenizer`, Hugging Face `CLIPTokenizer` without ftfy) as Stable
 * Diffusion uses it: text → ids with `<|startoftext|>`/`<|endoftext|>`, truncated and padded to 77 for the text
 * encoders.
 * @module
 */
import { toByteSymbols } from './byte-encoder.js';
import { END_OF_TEXT, START_OF_TEXT, loadBpeGz, loadHfTokenizerFiles, type BpeModel } from './bpe-files.js';
import { htmlUnescape } from './html-unescape.js';

/**
 * CLIP's pre-tokenizer: special tokens, English contractions, letter runs, single digits, and runs of other
 * non-space characters. Applied to lower-cased text, so the case-insensitive flag only matters for the specials.
 */
const PRE_TOKENIZER = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/**
 * CLIP's text normalisation (without ftfy): HTML-unescape twice, strip, collapse whitespace runs to one space,
 * strip, lower-case.
 */
export function normalizeClipText(text: string): string {
  return htmlUnescape(htmlUnescape(text)).trim().replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Splits normalised text into CLIP pre-tokens. */
function preTokenize(normalized: string): string[] {
  return normalized.match(PRE_TOKENIZER) ?? [];
}

/** How {@link ClipTokenizer.encodeForModel} pads: `'eos'` = `<|endoftext|>` (SD 1.x), or an explicit id (0 for SD 2.x). */
export type PadChoice = 'eos' | number;

/** Options for {@link ClipTokenizer.encodeForModel}. */
export interface EncodeForModelOptions {
  /** Sequence length the text encoder takes (77 for every SD text encoder). */
  readonly maxLength?: number;
  /** Overrides the pad id that the tokenizer folder's config chose. */
  readonly pad?: PadChoice;
}

/** Where a tokenizer's pad id came from: the folder's config, or CLIP's `<|endoftext|>` when no config names one. */
export type PadSource = 'config' | 'default-eos';

/**
 * A CLIP BPE tokenizer. Build it with {@link ClipTokenizer.fromHfFolder} or {@link ClipTokenizer.fromBpeGz}.
 * BPE results are cached per pre-token, so repeated words cost one map lookup.
 */
export class ClipTokenizer {
  readonly startId: number;
  readonly endId: number;
  /** Pad id used by {@link encodeForModel} unless overridden. */
  readonly padId: number;
  readonly padSource: PadSource;
  readonly #vocab: ReadonlyMap<string, number>;
  readonly #ranks: Map<string, number>;
  readonly #cache = new Map<string, readonly number[]>();

  constructor(model: BpeModel) {
    this.#vocab = model.vocab;
    this.#ranks = new Map(model.merges.map(([a, b], rank) => [`${a} ${b}`, rank]));
    this.startId = this.#tokenId(START_OF_TEXT);
    this.endId = this.#tokenId(END_OF_TEXT);
    this.padId = model.padToken === undefined ? this.endId : this.#tokenId(model.padToken);
    this.padSource = model.padToken === undefined ? 'default-eos' : 'config';
    this.#cache.set(START_OF_TEXT, [this.startId]);
    this.#cache.set(END_OF_TEXT, [this.endId]);
  }

  /** Loads a Hugging Face tokenizer folder (`vocab.json`, `merges.txt`, optional pad-token config). */
  static async fromHfFolder(dir: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await loadHfTokenizerFiles(dir));
  }

  /** Loads CLIP's `bpe_simple_vocab_16e6.txt.gz`; pads with `<|endoftext|>` (no config names a pad token). */
  static async fromBpeGz(file: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await loadBpeGz(file));
  }

  /** Vocabulary size (49408 for CLIP). */
  get vocabSize(): number {
    return this.#vocab.size;
  }

  /**
   * Tokenizes `text` to ids, `[startId, …, endId]`, untruncated.
   * @example tokenizer.encode('a photo') // [49406, 320, 1125, 49407]
   */
  encode(text: string): number[] {
    const ids = [this.startId];
    for (const piece of preTokenize(normalizeClipText(text))) ids.push(...this.#bpeIds(piece));
    ids.push(this.endId);
    return ids;
  }

  /**
   * Ids as a text encoder takes them: at most `maxLength − 1` tokens then `<|endoftext|>`, padded to `maxLength`.
   * @returns Int32Array of length `maxLength` (default 77): the `input_ids` row for shape `[1, 77]`
   */
  encodeForModel(text: string, options: EncodeForModelOptions = {}): Int32Array {
    const maxLength = options.maxLength ?? 77;
    if (!Number.isInteger(maxLength) || maxLength < 2) throw new RangeError(`maxLength must be an integer ≥ 2, got ${maxLength}`);
    const pad = options.pad === undefined ? this.padId : options.pad === 'eos' ? this.endId : options.pad;
    const ids = this.encode(text);
    const out = new Int32Array(maxLength).fill(pad);
    const kept = Math.min(ids.length - 1, maxLength - 1);
    for (let i = 0; i < kept; i++) out[i] = ids[i]!;
    out[kept] = this.endId;
    return out;
  }

  #tokenId(token: string): number {
    const id = this.#vocab.get(token);
    if (id === undefined) throw new RangeError(`token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  }

  #bpeIds(piece: string): readonly number[] {
    const cached = this.#cache.get(piece);
    if (cached) return cached;
    const ids = this.#bpe(toByteSymbols(piece)).map((t) => this.#tokenId(t));
    this.#cache.set(piece, ids);
    return ids;
  }

  /** BPE over byte symbols; the last symbol carries `</w>`. Merges the lowest-ranked adjacent pair until none applies. */
  #bpe(symbols: string): string[] {
    const word = [...symbols];
    word[word.length - 1] += '</w>';
    while (word.length > 1) {
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.#ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < best) {
          best = rank;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (best === Infinity) break;
      // Merge every non-overlapping occurrence of (first, second), left to right.
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(word[i]!);
        }
      }
      word.splice(0, word.length, ...merged);
    }
    return word;
  }
}
