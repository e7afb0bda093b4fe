/**
 * A small real HTTP server with the Hugging Face Hub's URL layout, for testing `pullModel` on 127.0.0.1:
 * `GET /api/models/<owner>/<name>/tree/<rev>?recursive=true` (the listing: `type`, `oid`, `size`, `path`, and
 * `lfs: {oid, size, pointerSize}` for large files) and `GET /<owner>/<name>/resolve/<rev>/<path>` (LFS files
 * redirect to a content-addressed URL on the same server, as the Hub redirects to its CDN; `Range` supported).
 * It logs every request so tests can assert what the client asked for.
 * @module
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server saw it. */
export interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly range: string | undefined;
  readonly authorization: string | undefined;
}

/** Behaviour switches for a test. */
export interface HubTestServerOptions {
  /** Repository id served, `owner/name`. */
  readonly repo: string;
  readonly revision: string;
  /** Repository path → content. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** Paths stored as LFS objects (listed with `lfs`, served through a redirect). */
  readonly lfs: (path: string) => boolean;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  readonly requiredToken?: string;
}

/** A running test Hub. `cutOnce` and `corrupt` change what the next downloads get. */
export interface HubTestServer {
  readonly url: string;
  readonly requests: LoggedRequest[];
  /** The next full-body download of `path` stops after `bytes` bytes and the connection is destroyed. */
  cutOnce(path: string, bytes: number): void;
  /** Downloads of `path` serve content with one byte flipped (same size, wrong hash). */
  corrupt(path: string): void;
  close(): Promise<void>;
}

const gitOid = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Starts the server on 127.0.0.1 with an OS-chosen port. */
export async function startHubTestServer(options: HubTestServerOptions): Promise<HubTestServer> {
  const requests: LoggedRequest[] = [];
  const cuts = new Map<string, number>();
  const corrupted = new Set<string>();
  const byOid = new Map<string, string>();
  for (const [p, content] of options.files) if (options.lfs(p)) byOid.set(sha256(content), p);

  const listing = (): unknown[] => {
    const dirs = new Set<string>();
    const entries: unknown[] = [];
    for (const [p, content] of [...options.files].sort(([a], [b]) => a.localeCompare(b))) {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      if (options.lfs(p)) {
        const oid = sha256(content);
        const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.length}\n`);
        entries.push({
          type: 'file',
          oid: gitOid(pointer),
          size: content.length,
          path: p,
          lfs: { oid, size: content.length, pointerSize: pointer.length },
        });
      } else {
        entries.push({ type: 'file', oid: gitOid(content), size: content.length, path: p });
      }
    }
    return [...[...dirs].map((d) => ({ type: 'directory', oid: gitOid(Buffer.from(d)), size: 0, path: d })), ...entries];
  };

  const serveBytes = (req: IncomingMessage, res: ServerResponse, repoPath: string): void => {
    let content = options.files.get(repoPath)!;
    if (corrupted.has(repoPath)) {
      content = Buffer.from(content);
      content[content.length >> 1]! ^= 0xff;
    }
    const headers = { etag: `"${gitOid(content)}"`, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), content.length - 1) : content.length - 1;
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${content.length}`, 'content-length': end - start + 1 });
      res.end(content.subarray(start, end + 1));
      return;
    }
    const cut = cuts.get(repoPath);
    if (cut !== undefined) {
      cuts.delete(repoPath);
      res.writeHead(200, { ...headers, 'content-length': content.length });
      res.write(content.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': content.length }).end(content);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
    if (options.requiredToken && req.headers.authorization !== `Bearer ${options.requiredToken}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Invalid credentials' }));
      return;
    }
    const treePrefix = `/api/models/${options.repo}/tree/${options.revision}`;
    const resolvePrefix = `/${options.repo}/resolve/${encodeURIComponent(options.revision)}/`;
    if (url.pathname === treePrefix && url.searchParams.get('recursive') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listing()));
    } else if (url.pathname.startsWith(resolvePrefix)) {
      const repoPath = decodeURIComponent(url.pathname.slice(resolvePrefix.length));
      const content = options.files.get(repoPath);
      if (!content) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
      } else if (options.lfs(repoPath)) {
        res
          .writeHead(302, {
            location: `/lfs-cdn/${sha256(content)}`,
            'x-linked-size': content.length,
            'x-linked-etag': `"${sha256(content)}"`,
          })
          .end();
      } else {
        serveBytes(req, res, repoPath);
      }
    } else if (url.pathname.startsWith('/lfs-cdn/') && byOid.has(url.pathname.slice('/lfs-cdn/'.length))) {
      serveBytes(req, res, byOid.get(url.pathname.slice('/lfs-cdn/'.length))!);
    } else {
      res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutOnce: (p, bytes) => void cuts.set(p, bytes),
    corrupt: (p) => void corrupted.add(p),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
