import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'health-probe.mjs');

/** The backend's state the loopback server (node:http) reports, answering the probe paths as the backend does. */
let state = 'READY';
let delayMs = 0;
const accepted: Record<string, string[]> = { '/started': ['READY', 'BUSY'], '/ready': ['READY'], '/live': ['STARTING', 'READY', 'BUSY'] };
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const ok = accepted[req.url ?? ''];
    if (!ok) {
      res.writeHead(404).end();
      return;
    }
    setTimeout(() => res.writeHead(ok.includes(state) ? 200 : 503, { 'content-type': 'text/plain' }).end(state), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function runProbe(mode: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [probe, mode],
      { env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env }, timeout: 15_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

describe('health-probe.mjs', () => {
  const table: Array<[mode: string, status: string, exit: number]> = [
    ['started', 'STARTING', 1],
    ['started', 'READY', 0],
    ['started', 'BUSY', 0],
    ['started', 'SETUP_FAILED', 1],
    ['ready', 'READY', 0],
    ['ready', 'BUSY', 1],
    ['ready', 'STARTING', 1],
    ['ready', 'DEFUNCT', 1],
    ['live', 'STARTING', 0],
    ['live', 'READY', 0],
    ['live', 'BUSY', 0],
    ['live', 'SETUP_FAILED', 1],
    ['live', 'DEFUNCT', 1],
  ];
  it.each(table)('%s probe exits with the right code when the service reports %s', async (mode, status, exit) => {
    state = status;
    delayMs = 0;
    const { code } = await runProbe(mode);
    expect(code).toBe(exit);
  });

  it('reports the state the backend answered in its output', async () => {
    state = 'SETUP_FAILED';
    delayMs = 0;
    const { code, out } = await runProbe('live');
    expect(code).toBe(1);
    expect(out).toContain('HTTP 503 SETUP_FAILED');
  });

  it('fails when nothing listens on the port', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const unused = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { code, out } = await runProbe('live', { PORT: String(unused) });
    expect(code).toBe(1);
    expect(out).toContain('unreachable');
  });

  it('fails when the health check is slower than PROBE_TIMEOUT_MS', async () => {
    state = 'READY';
    delayMs = 1_000;
    expect((await runProbe('ready', { PROBE_TIMEOUT_MS: '200' })).code).toBe(1);
  });

  it('rejects an unknown mode with exit code 2', async () => {
    expect((await runProbe('healthy')).code).toBe(2);
  });
});
