/**
 * An HTTPS front for the local S3 server, so that presigned output URLs are `https:` as they are in production
 * (the `replicate` client turns only `https:` and `data:` outputs into `FileOutput`s). It passes the Host header
 * through, so s3rver checks the SigV4 signature against the host the edge presigned for (`S3_PUBLIC_ENDPOINT`).
 * The certificate is self-signed for 127.0.0.1 (made with the `openssl` command); `trustingFetch` is a `fetch`
 * that trusts it, for clients under test.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

/** A self-signed certificate for IP 127.0.0.1, valid one day. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-front-'));
  try {
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TlsFront {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1:`port` with TLS and forwards every request to the plain-HTTP `upstream()` origin.
 * @param upstream read per request (the stack's S3 endpoint is known only once it has started)
 */
export async function startTlsFront(port: number, tls: { key: string; cert: string }, upstream: () => string): Promise<TlsFront> {
  const server: Server = createServer(tls, (req, res) => {
    const target = new URL(req.url ?? '/', upstream());
    const forward = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `fetch` that trusts `ca` for https URLs (GET only, as file downloads are) and is the global fetch otherwise. */
export function trustingFetch(ca: string): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    return new Promise<Response>((resolve, reject) => {
      httpsRequest(url, { method: 'GET', ca }, (res) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
        resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status: res.statusCode ?? 502, headers }));
      })
        .on('error', reject)
        .end();
    });
  };
}
