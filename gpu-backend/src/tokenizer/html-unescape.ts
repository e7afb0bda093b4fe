/**
 * A small HTML character-reference decoder, close to Python's `html.unescape` for what prompts contain.
 *
 * Supported:
 * - numeric references `&#NNN;` and `&#xHH;` (the `;` optional, as in Python); code point 0, surrogates and values
 *   above U+10FFFF become U+FFFD, 0x80–0x9F are read as Windows-1252 (as HTML5 and Python do), and C0 control
 *   characters other than tab/newline/form feed/carriage return (and DEL) are dropped;
 * - the named references in {@link NAMED_ENTITIES} with a `;`, and the legacy ones (`amp`, `lt`, `gt`, `quot`,
 *   `nbsp`, `copy`, `reg`, and the Latin-1 letters listed there) also without it.
 *
 * Any other `&name;` is left as written (Python knows all 2231 HTML5 names; prompts rarely use the rest).
 * @module
 */

/** Named references decoded with a trailing `;` (name → text). */
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '\u00a9',
  reg: '\u00ae',
  trade: '\u2122',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  laquo: '\u00ab',
  raquo: '\u00bb',
  middot: '\u00b7',
  bull: '\u2022',
  deg: '\u00b0',
  times: '\u00d7',
  divide: '\u00f7',
  euro: '\u20ac',
  pound: '\u00a3',
  yen: '\u00a5',
  cent: '\u00a2',
  sect: '\u00a7',
  para: '\u00b6',
  plusmn: '\u00b1',
  micro: '\u00b5',
  frac12: '\u00bd',
  frac14: '\u00bc',
  frac34: '\u00be',
  sup2: '\u00b2',
  sup3: '\u00b3',
  iexcl: '\u00a1',
  iquest: '\u00bf',
  shy: '\u00ad',
  eacute: '\u00e9',
  egrave: '\u00e8',
  ecirc: '\u00ea',
  euml: '\u00eb',
  aacute: '\u00e1',
  agrave: '\u00e0',
  acirc: '\u00e2',
  auml: '\u00e4',
  aring: '\u00e5',
  atilde: '\u00e3',
  aelig: '\u00e6',
  ccedil: '\u00e7',
  iacute: '\u00ed',
  igrave: '\u00ec',
  icirc: '\u00ee',
  iuml: '\u00ef',
  ntilde: '\u00f1',
  oacute: '\u00f3',
  ograve: '\u00f2',
  ocirc: '\u00f4',
  ouml: '\u00f6',
  otilde: '\u00f5',
  oslash: '\u00f8',
  uacute: '\u00fa',
  ugrave: '\u00f9',
  ucirc: '\u00fb',
  uuml: '\u00fc',
  yacute: '\u00fd',
  yuml: '\u00ff',
  szlig: '\u00df',
  Eacute: '\u00c9',
  Aacute: '\u00c1',
  Ntilde: '\u00d1',
  Ouml: '\u00d6',
  Uuml: '\u00dc',
  Auml: '\u00c4',
};

/** Legacy names that HTML (and Python) also decode without the trailing `;`. */
const LEGACY_WITHOUT_SEMICOLON: ReadonlySet<string> = new Set([
  'amp',
  'lt',
  'gt',
  'quot',
  'nbsp',
  'copy',
  'reg',
  'deg',
  'times',
  'divide',
  'pound',
  'yen',
  'cent',
  'sect',
  'para',
  'plusmn',
  'micro',
  'frac12',
  'frac14',
  'frac34',
  'sup2',
  'sup3',
  'iexcl',
  'iquest',
  'shy',
  'laquo',
  'raquo',
  'middot',
  'eacute',
  'egrave',
  'ecirc',
  'euml',
  'aacute',
  'agrave',
  'acirc',
  'auml',
  'aring',
  'atilde',
  'aelig',
  'ccedil',
  'iacute',
  'igrave',
  'icirc',
  'iuml',
  'ntilde',
  'oacute',
  'ograve',
  'ocirc',
  'ouml',
  'otilde',
  'oslash',
  'uacute',
  'ugrave',
  'ucirc',
  'uuml',
  'yacute',
  'yuml',
  'szlig',
  'Eacute',
  'Aacute',
  'Ntilde',
  'Ouml',
  'Uuml',
  'Auml',
]);

/** Windows-1252 meanings of 0x80–0x9F (HTML5 "numeric character reference end state"); missing = keep as is. */
const CP1252: Readonly<Record<number, number>> = {
  128: 0x20ac,
  130: 0x201a,
  131: 0x0192,
  132: 0x201e,
  133: 0x2026,
  134: 0x2020,
  135: 0x2021,
  136: 0x02c6,
  137: 0x2030,
  138: 0x0160,
  139: 0x2039,
  140: 0x0152,
  142: 0x017d,
  145: 0x2018,
  146: 0x2019,
  147: 0x201c,
  148: 0x201d,
  149: 0x2022,
  150: 0x2013,
  151: 0x2014,
  152: 0x02dc,
  153: 0x2122,
  154: 0x0161,
  155: 0x203a,
  156: 0x0153,
  158: 0x017e,
  159: 0x0178,
};

const REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

function decodeNumeric(body: string): string {
  const digits = body.endsWith(';') ? body.slice(1, -1) : body.slice(1);
  const cp = digits[0] === 'x' || digits[0] === 'X' ? parseInt(digits.slice(1), 16) : parseInt(digits, 10);
  if (cp in CP1252) return String.fromCodePoint(CP1252[cp]!);
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
  // Python drops references to control characters other than tab, newline, form feed and carriage return.
  if ((cp >= 0x01 && cp <= 0x08) || cp === 0x0b || (cp >= 0x0e && cp <= 0x1f) || cp === 0x7f) return '';
  return String.fromCodePoint(cp);
}

function decodeNamed(body: string): string | undefined {
  if (body.endsWith(';')) {
    const exact = NAMED_ENTITIES[body.slice(0, -1)];
    if (exact !== undefined) return exact;
  }
  // Without `;` (or an unknown name with `;`): the longest legacy name that prefixes it, the rest kept verbatim.
  for (let len = Math.min(body.length, 6); len >= 2; len--) {
    const name = body.slice(0, len);
    if (LEGACY_WITHOUT_SEMICOLON.has(name)) return NAMED_ENTITIES[name] + body.slice(len);
  }
  return undefined;
}

/**
 * Decodes HTML character references once (call twice for CLIP's double unescape).
 * @example htmlUnescape('fish &amp;amp; chips') === 'fish &amp; chips'
 */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (match: string, body: string) => {
    if (body[0] === '#') return decodeNumeric(body);
    return decodeNamed(body) ?? match;
  });
}
