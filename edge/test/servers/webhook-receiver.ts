/**
 * A real webhook receiver for the edge tests (Node, loopback). Each endpoint `POST /hooks/:name` verifies the
 * delivery with the `standardwebhooks` package — the library a receiving service would use — and records the
 * headers, body and verdict. Tests configure an endpoint and read its log through `/_test/hooks/:name`:
 * - `POST /_test/hooks/:name` `{secret, fail?, fail_status?, fail_headers?, status?, tamper?}`: the first
 *   `fail` deliveries answer `fail_status` (default 500) with `fail_headers`, later ones `status` (default
 *   204); `tamper` changes one byte of the body before verifying (what a modified body looks like to a receiver);
 * - `GET /_test/hooks/:name`: `{deliveries: [{at, headers, body, verified, error, answered}]}`.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  at: number;
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string; 'content-type': string };
  body: string;
  verified: boolean;
  error: string | null;
  answered: number;
}

interface EndpointConfig {
  secret: string;
  fail: number;
  fail_status: number;
  fail_headers: Record<string, string>;
  status: number;
  tamper: boolean;
}

/** Starts the receiver on 127.0.0.1 (port 0). */
export async function startWebhookReceiver(): Promise<{ url: string; server: Server }> {
  const configs = new Map<string, EndpointConfig>();
  const logs = new Map<string, ReceivedDelivery[]>();
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://receiver');
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
      };
      const control = /^\/_test\/hooks\/([\w-]+)$/.exec(url.pathname);
      if (control?.[1]) {
        const name = control[1];
        if (req.method === 'POST') {
          const given = JSON.parse(body) as Partial<EndpointConfig> & { secret: string };
          configs.set(name, { fail: 0, fail_status: 500, fail_headers: {}, status: 204, tamper: false, ...given });
          return send(200, { ok: true });
        }
        return send(200, { deliveries: logs.get(name) ?? [] });
      }
      const hook = /^\/hooks\/([\w-]+)$/.exec(url.pathname);
      if (!hook?.[1] || req.method !== 'POST') return send(404, { error: 'not found' });
      const name = hook[1];
      const config = configs.get(name);
      const header = (n: string): string => (req.headers[n] as string | undefined) ?? '';
      const headers = {
        'webhook-id': header('webhook-id'),
        'webhook-timestamp': header('webhook-timestamp'),
        'webhook-signature': header('webhook-signature'),
        'content-type': header('content-type'),
      };
      let verified = false;
      let error: string | null = null;
      try {
        if (!config) throw new Error('endpoint not configured');
        const checked = config.tamper ? body.replace('"status"', '"Status"') : body;
        new Webhook(config.secret).verify(checked, headers);
        verified = true;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      const failing = config !== undefined && config.fail > 0;
      if (failing) config.fail -= 1;
      const answered = failing ? config.fail_status : (config?.status ?? 404);
      const log = logs.get(name) ?? [];
      log.push({ at: Date.now(), headers, body, verified, error, answered });
      logs.set(name, log);
      res.writeHead(answered, failing ? config.fail_headers : {}).end();
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
