/**
 * CLIP's byte-level alphabet (`bytes_to_unicode` in openai/CLIP and GPT-2): every byte 0..255 maps to one
 * printable Unicode character, so BPE can work on strings without whitespace or control characters.
 * @module
 */

/**
 * The 256 byte symbols in CLIP's vocabulary order: printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) map to
 * themselves and come first; the remaining bytes follow in byte order, mapped to U+0100, U+0101, ….
 * `BYTE_SYMBOL_ORDER[k]` is the byte whose symbol has vocabulary id `k`.
 */
export const BYTE_SYMBOL_ORDER: readonly number[] = buildOrder();

/** `BYTE_TO_SYMBOL[b]` is the one-character string that stands for byte `b`. */
export const BYTE_TO_SYMBOL: readonly string[] = buildSymbols();

function isPrintableByte(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

function buildOrder(): number[] {
  const order: number[] = [];
  for (let b = 0; b < 256; b++) if (isPrintableByte(b)) order.push(b);
  for (let b = 0; b < 256; b++) if (!isPrintableByte(b)) order.push(b);
  return order;
}

function buildSymbols(): string[] {
  const symbols = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    symbols[b] = String.fromCharCode(isPrintableByte(b) ? b : 256 + n++);
  }
  return symbols;
}

const utf8 = new TextEncoder();

/** Encodes `text` as UTF-8 and maps each byte to its symbol (CLIP: `''.join(byte_encoder[b] for b in t.encode())`). */
export function toByteSymbols(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_SYMBOL[b];
  return out;
}
