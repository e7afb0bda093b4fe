/**
 * Host name resolution for the webhook SSRF guard. Workers cannot resolve DNS themselves, so the production
 * resolver asks a DNS-over-HTTPS server (JSON API: `GET <DOH_URL>?name=…&type=A|AAAA` with
 * `accept: application/dns-json`, as served by cloudflare-dns.com); tests point DOH_URL at a loopback server.
 * @module
 */
import { z } from 'zod';

/** Resolves a host name to its IPv4 and IPv6 addresses (empty when the name does not exist). */
export interface HostResolver {
  resolve(host: string): Promise<string[]>;
}

/** Thrown when the resolver itself fails (network, SERVFAIL): a transient condition, unlike "no such name". */
export class ResolverError extends Error {
  override readonly name = 'ResolverError';
}

const DohAnswer = z.object({
  Status: z.number().int(),
  Answer: z.array(z.object({ name: z.string(), type: z.number().int(), data: z.string() })).optional(),
});

const RECORD_TYPES = { A: 1, AAAA: 28 } as const;
const NXDOMAIN = 3;

export interface DohResolverOptions {
  /** `fetch` to use (default: the global one). */
  fetcher?: typeof fetch;
  timeoutMs?: number;
}

/** A resolver that asks the DoH JSON API at `endpoint` for A and AAAA records. */
export function dohResolver(endpoint: string, options: DohResolverOptions = {}): HostResolver {
  const fetcher = options.fetcher ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  async function lookup(host: string, type: keyof typeof RECORD_TYPES): Promise<string[]> {
    const url = `${endpoint}?name=${encodeURIComponent(host)}&type=${type}`;
    let res: Response;
    try {
      res = await fetcher(url, { headers: { accept: 'application/dns-json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new ResolverError(`DNS-over-HTTPS request failed: ${String(err)}`);
    }
    if (!res.ok) throw new ResolverError(`DNS-over-HTTPS answered ${res.status}`);
    const parsed = DohAnswer.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new ResolverError('DNS-over-HTTPS answer is not DNS JSON');
    if (parsed.data.Status === NXDOMAIN) return [];
    if (parsed.data.Status !== 0) throw new ResolverError(`DNS lookup of ${host} failed with status ${parsed.data.Status}`);
    return (parsed.data.Answer ?? []).filter((a) => a.type === RECORD_TYPES[type]).map((a) => a.data);
  }
  return {
    async resolve(host) {
      const [a, aaaa] = await Promise.all([lookup(host, 'A'), lookup(host, 'AAAA')]);
      return [...a, ...aaaa];
    },
  };
}
