/**
 * The webhook SSRF guard, applied when a prediction names a webhook (422) and again before every delivery
 * (DNS may have changed since). A URL is refused when its host is, or resolves to, any address that is not
 * public: private, loopback, link-local, CGNAT, multicast, unspecified, reserved or cloud-metadata (IPv4 and
 * IPv6, embedded IPv4 included), or when it is a `localhost` or internal-only name. With `allowLoopback`
 * (development and tests only) loopback addresses and `localhost` names pass, and so does plain http; outside
 * development a webhook must be https.
 * Remaining gap: the Workers runtime resolves the name again when it fetches, so a DNS answer that changes
 * between the check and the fetch is not caught here (Cloudflare's own egress does not reach private ranges).
 * @module
 */
import { classifyLiteral, type AddressClass } from './addresses.js';
import { ResolverError, type HostResolver } from './resolver.js';

export interface UrlGuardOptions {
  allowLoopback: boolean;
  resolver: HostResolver;
}

export type UrlVerdict =
  | { ok: true }
  | { ok: false; transient: false; reason: string; class?: AddressClass }
  | { ok: false; transient: true; reason: string };

const INTERNAL_SUFFIXES = ['.internal', '.local', '.localdomain', '.home.arpa', '.lan', '.intranet', '.corp'];

function refused(reason: string, cls?: AddressClass): UrlVerdict {
  return { ok: false, transient: false, reason, ...(cls === undefined ? {} : { class: cls }) };
}

function allowed(cls: AddressClass, allowLoopback: boolean): boolean {
  return cls === 'public' || (cls === 'loopback' && allowLoopback);
}

/** Checks a webhook URL (scheme, credentials, host name, every resolved address). */
export async function checkWebhookUrl(raw: string, options: UrlGuardOptions): Promise<UrlVerdict> {
  const verdict = await checkTarget(raw, options);
  // Plain http only in development (where loopback receivers are allowed too).
  if (verdict.ok && !options.allowLoopback && new URL(raw).protocol === 'http:')
    return refused('webhooks must use https outside development');
  return verdict;
}

async function checkTarget(raw: string, options: UrlGuardOptions): Promise<UrlVerdict> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refused('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refused('only http and https webhooks are allowed');
  if (url.username !== '' || url.password !== '') return refused('credentials in webhook URLs are not allowed');
  // The URL parser has already turned decimal, octal and hex IPv4 forms into dotted decimal.
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const literal = classifyLiteral(host);
  if (literal !== null) return allowed(literal, options.allowLoopback) ? { ok: true } : refused(`the address is ${literal}`, literal);
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return options.allowLoopback ? { ok: true } : refused('localhost is not allowed', 'loopback');
  }
  if (!host.includes('.') || INTERNAL_SUFFIXES.some((s) => host.endsWith(s)) || host === 'metadata.google.internal') {
    return refused('internal host names are not allowed', 'private');
  }
  let addresses: string[];
  try {
    addresses = await options.resolver.resolve(host);
  } catch (err) {
    if (err instanceof ResolverError) return { ok: false, transient: true, reason: err.message };
    throw err;
  }
  if (addresses.length === 0) return refused(`${host} does not resolve`);
  for (const address of addresses) {
    const cls = classifyLiteral(address);
    if (cls === null) return refused(`${host} resolved to something that is not an address`);
    if (!allowed(cls, options.allowLoopback)) return refused(`${host} resolves to a ${cls} address`, cls);
  }
  return { ok: true };
}
