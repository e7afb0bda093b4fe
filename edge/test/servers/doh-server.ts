/**
 * A DNS-over-HTTPS server (JSON API, as cloudflare-dns.com serves it) on loopback for the webhook SSRF tests:
 * `GET /dns-query?name=…&type=A|AAAA` with `accept: application/dns-json` answers from a small zone; unknown
 * names are NXDOMAIN (Status 3). `POST /_test/zone` `{name, A?, AAAA?}` replaces a name's records (DNS rebinding
 * tests); `{name, fail: true}` makes its lookups answer SERVFAIL (Status 2).
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Records {
  A?: string[];
  AAAA?: string[];
  fail?: boolean;
}

/** Names every test can rely on. */
const INITIAL_ZONE: Record<string, Records> = {
  'public.hooks.test': { A: ['93.184.216.34'], AAAA: ['2606:2800:220:1:248:1893:25c8:1946'] },
  'private.evil.test': { A: ['10.1.2.3'] },
  'metadata.evil.test': { A: ['169.254.169.254'] },
  'cgnat.evil.test': { A: ['100.64.0.9'] },
  'ula.evil.test': { AAAA: ['fd12:3456::1'] },
  'mapped.evil.test': { AAAA: ['::ffff:192.168.0.1'] },
  'mixed.evil.test': { A: ['93.184.216.34', '172.16.5.5'] },
  'linklocal6.evil.test': { AAAA: ['fe80::1'] },
};

const TYPES = { A: 1, AAAA: 28 } as const;

/** Starts the server on 127.0.0.1 (port 0). */
export async function startDohServer(): Promise<{ url: string; server: Server }> {
  const zone = new Map(Object.entries(INITIAL_ZONE));
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? '/', 'http://doh');
      const json = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/dns-json' }).end(JSON.stringify(payload));
      };
      if (url.pathname === '/_test/zone' && req.method === 'POST') {
        const { name, ...records } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Records & { name: string };
        zone.set(name, records);
        return json(200, { ok: true });
      }
      if (url.pathname !== '/dns-query' || req.headers.accept !== 'application/dns-json')
        return json(400, { error: 'expected a DNS JSON query' });
      const name = (url.searchParams.get('name') ?? '').replace(/\.$/, '').toLowerCase();
      const type = url.searchParams.get('type') as keyof typeof TYPES | null;
      if (type === null || !(type in TYPES)) return json(400, { error: 'type must be A or AAAA' });
      const records = zone.get(name);
      if (!records) return json(200, { Status: 3, Question: [{ name, type: TYPES[type] }] });
      if (records.fail) return json(200, { Status: 2, Question: [{ name, type: TYPES[type] }] });
      const answer = (records[type] ?? []).map((data) => ({ name, type: TYPES[type], TTL: 60, data }));
      return json(200, { Status: 0, Question: [{ name, type: TYPES[type] }], Answer: answer });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
