/**
 * Port checks for the local stack: a clear error when a port is taken, and free ports for tests.
 * @module
 */
import { createServer } from 'node:net';

/** Whether `port` can be bound on 127.0.0.1 right now. */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS reports free on 127.0.0.1 (it may be taken again before use; tests accept that race). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A free port for a run of `count` consecutive ports (`BACKEND_PORT` with `BACKENDS_COUNT` > 1), none of them in
 * `avoid`: every port of the run is free now (the same race as {@link freePort}).
 */
export async function freePortRun(count: number, avoid: readonly number[] = [], host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const base = await freePort(host);
    const run = Array.from({ length: count }, (_, i) => base + i);
    if (run.at(-1)! > 65535 || run.some((p) => avoid.includes(p))) continue;
    let free = true;
    for (const port of run.slice(1)) free &&= await isPortFree(port, host);
    if (free) return base;
  }
}

/**
 * Throws one message naming every taken port.
 * @param ports label → port, e.g. `{ EDGE_PORT: 8787 }`
 */
export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  const taken: string[] = [];
  for (const [label, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) taken.push(`${label}=${port}`);
  }
  if (taken.length > 0) {
    throw new Error(`port already in use: ${taken.join(', ')} (stop what uses it or choose another port with that variable)`);
  }
}
