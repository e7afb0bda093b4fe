/**
 * IP address parsing and classification for the webhook SSRF guard (pure). IPv4 literals are read the way
 * URL parsers and `inet_aton` read them (decimal, octal `0…`, hex `0x…`, and 1–4 parts, the last filling the
 * remaining bytes), IPv6 with `::` compression and a dotted IPv4 tail. Embedded IPv4 addresses (IPv4-mapped,
 * IPv4-compatible, NAT64, 6to4) are classified as the IPv4 address they carry.
 * @module
 */

/** Why an address may not be a webhook target; `public` is the only allowed class (`loopback` in development). */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'metadata'
  | 'reserved';

/** Parses an IPv4 literal into 4 bytes, or null when `text` is not one. */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length > 0 && parts.at(-1) === '') parts.pop();
  if (parts.length < 1 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    if (!Number.isFinite(value)) return null;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255)) return null;
  const lastBytes = 4 - values.length;
  if (last >= 256 ** lastBytes) return null;
  const tail: number[] = [];
  for (let i = lastBytes - 1; i >= 0; i--) tail.push(Math.floor(last / 256 ** i) % 256);
  return [...values, ...tail];
}

/** Parses an IPv6 literal (without brackets; a zone id is refused) into 16 bytes, or null. */
export function parseIPv6(text: string): Uint8Array | null {
  if (!text.includes(':') || text.includes('%')) return null;
  let normal = text;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // A dotted IPv4 tail becomes the last two groups.
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(tail)) return null;
    const v4 = tail.split('.').map(Number);
    if (v4.some((x) => x > 255)) return null;
    const hi = (((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16);
    const lo = (((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16);
    normal = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = normal.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0] ?? '');
  const right = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (!left || !right) return null;
  let groups = left;
  if (halves.length === 2) {
    const fill = 8 - left.length - right.length;
    if (fill < 1) return null;
    groups = [...left, ...Array<number>(fill).fill(0), ...right];
  }
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

function inV4(a: readonly number[], net: readonly number[], bits: number): boolean {
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - 8 * i));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    if (((a[i] ?? 0) & mask) !== ((net[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Class of an IPv4 address (4 bytes). */
function classifyIPv4(a: readonly number[]): AddressClass {
  const table: [number[], number, AddressClass][] = [
    [[169, 254, 169, 254], 32, 'metadata'],
    [[168, 63, 129, 16], 32, 'metadata'],
    [[0, 0, 0, 0], 8, 'unspecified'],
    [[10, 0, 0, 0], 8, 'private'],
    [[100, 64, 0, 0], 10, 'cgnat'],
    [[127, 0, 0, 0], 8, 'loopback'],
    [[169, 254, 0, 0], 16, 'link-local'],
    [[172, 16, 0, 0], 12, 'private'],
    [[192, 0, 0, 0], 24, 'reserved'],
    [[192, 0, 2, 0], 24, 'reserved'],
    [[192, 88, 99, 0], 24, 'reserved'],
    [[192, 168, 0, 0], 16, 'private'],
    [[198, 18, 0, 0], 15, 'reserved'],
    [[198, 51, 100, 0], 24, 'reserved'],
    [[203, 0, 113, 0], 24, 'reserved'],
    [[224, 0, 0, 0], 4, 'multicast'],
    [[240, 0, 0, 0], 4, 'reserved'],
  ];
  for (const [net, bits, cls] of table) if (inV4(a, net, bits)) return cls;
  return 'public';
}

function startsWith(bytes: Uint8Array, prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - 8 * i);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Class of an IPv6 address (16 bytes); embedded IPv4 addresses are classified as IPv4. */
function classifyIPv6(b: Uint8Array): AddressClass {
  const zero = (from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);
  const v4 = (at: number): number[] => [...b.subarray(at, at + 4)];
  if (zero(0, 16)) return 'unspecified';
  if (zero(0, 15) && b[15] === 1) return 'loopback';
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return classifyIPv4(v4(12)); // ::ffff:a.b.c.d
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return classifyIPv4(v4(12)); // ::ffff:0:a.b.c.d (IPv4-translated)
  if (zero(0, 12)) return classifyIPv4(v4(12)) === 'public' ? 'reserved' : classifyIPv4(v4(12)); // ::a.b.c.d (deprecated)
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b], 32) && zero(4, 12)) return classifyIPv4(v4(12)); // 64:ff9b::/96 NAT64
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return 'private'; // 64:ff9b:1::/48 local NAT64
  if (startsWith(b, [0x20, 0x02], 16)) return classifyIPv4(v4(2)); // 2002::/16 6to4
  if (startsWith(b, [0xfd, 0x00, 0x0e, 0xc2], 32) && zero(4, 14) && b[14] === 0x02 && b[15] === 0x54) return 'metadata'; // fd00:ec2::254
  if (startsWith(b, [0xfc], 7)) return 'private'; // fc00::/7 unique local
  if (startsWith(b, [0xfe, 0x80], 10)) return 'link-local';
  if (startsWith(b, [0xfe, 0xc0], 10)) return 'private'; // deprecated site-local
  if (startsWith(b, [0xff], 8)) return 'multicast';
  if (startsWith(b, [0x01, 0x00, 0, 0, 0, 0, 0, 0], 64)) return 'reserved'; // discard-only
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return 'reserved'; // documentation
  if (startsWith(b, [0x20, 0x01, 0x00, 0x00], 32)) return 'reserved'; // Teredo
  return 'public';
}

/** Class of an IP literal (IPv4 in any accepted notation, or IPv6 with or without brackets); null if not one. */
export function classifyLiteral(host: string): AddressClass | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v6 = parseIPv6(bare);
  if (v6) return classifyIPv6(v6);
  const v4 = parseIPv4(bare);
  return v4 ? classifyIPv4(v4) : null;
}
