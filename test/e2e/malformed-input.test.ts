/**
 * Malformed and hostile create requests against the real local stack: every answer is a 4xx problem+json
 * (never a 5xx), nothing is charged and nothing reaches the GPU backend. The backend pulls its work from the edge
 * through a recording proxy so the test sees every job it is leased.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/ports.js';
import { FLEET_PATHS, LeaseResponse } from '../../shared/fleet.js';
import { balance, call, tinyRequest, waitForEnd, type PredictionJson } from './helpers/api.js';
import { handWrittenCases, schemaMutations } from './helpers/hostile-corpus.js';
import { useStack } from './helpers/stack-fixture.js';

/** Prediction ids of every job the edge leased to the backend. */
const leased: string[] = [];
const proxyPort = await freePort();
const h = useStack({ backendsEdgeUrl: `http://127.0.0.1:${proxyPort}` });

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
  ) as Record<string, string>;
  const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
  const upstream = await fetch(`${h.stack.edgeUrl}${req.url}`, { method: req.method!, headers, ...(body ? { body } : {}) });
  const answer = Buffer.from(await upstream.arrayBuffer());
  if (req.url === FLEET_PATHS.lease && upstream.ok) {
    for (const { job } of LeaseResponse.parse(JSON.parse(answer.toString('utf8'))).jobs) leased.push(job.id);
  }
  res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
  res.end(answer);
}
const proxy = createServer((req, res) => {
  forward(req, res).catch(() => {
    res.writeHead(502);
    res.end();
  });
});
await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
afterAll(
  () =>
    new Promise<void>((resolve) => {
      proxy.close(() => resolve());
      // The backend's long poll would otherwise hold the close for its whole wait.
      proxy.closeAllConnections();
    }),
);

const valid = tinyRequest();
const corpus = [...schemaMutations(valid, 60), ...handWrittenCases(valid)];

describe('malformed input corpus', () => {
  it('answers every malformed request with a 4xx problem, charges nothing and leases nothing', async () => {
    const before = await balance(h.stack);
    const failures: string[] = [];
    for (const c of corpus) {
      const res = await fetch(`${h.stack.edgeUrl}/v1/predictions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.stack.apiKey}`, 'content-type': c.contentType },
        body: c.body,
      });
      const type = res.headers.get('content-type') ?? '';
      const text = await res.text();
      if (res.status < 400 || res.status >= 500 || !type.startsWith('application/problem+json')) {
        failures.push(`${c.name}: ${res.status} ${type} ${text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    // Give a wrongly queued job time to be leased before concluding nothing was.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(leased).toEqual([]);
    expect(await balance(h.stack)).toBe(before);
  });

  it('still leases a valid request through the same proxy (the check above can see leases)', async () => {
    const res = await call<PredictionJson>(h.stack, 'POST', '/v1/predictions', valid);
    expect(res.status).toBe(202);
    expect((await waitForEnd(h.stack, res.body.id)).status).toBe('succeeded');
    expect(leased).toEqual([res.body.id]);
  });
});
