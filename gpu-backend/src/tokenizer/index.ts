/**
 * CLIP BPE tokenizer for Stable Diffusion's text encoders.
 * @module
 */
export {
  ClipTokenizer,
  normalizeClipText,
  preTokenize,
  type EncodeForModelOptions,
  type PadChoice,
  type PadSource,
} from './clip-tokenizer.js';
export {
  CLIP_MERGE_COUNT,
  END_OF_TEXT,
  START_OF_TEXT,
  TokenizerFilesError,
  bpeModelFromMergesText,
  loadBpeGz,
  loadHfTokenizerFiles,
  writeHfTokenizerFiles,
  type BpeModel,
  type WriteHfTokenizerOptions,
} from './bpe-files.js';
export { htmlUnescape, NAMED_ENTITIES } from './html-unescape.js';
