/**
 * The README's first command, second half: `npm start` as a child process (random ports, scratch state
 * folder, two backends with BACKENDS_COUNT). Its banner lists both backends; its printed key and curl line
 * generate an image; Ctrl-C (SIGINT to its process group, as a terminal sends it) stops everything and leaves
 * no process or port behind.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortFree } from '../../scripts/stack/ports.js';
import { randomStackPorts, REPO_ROOT } from '../../scripts/stack/start-stack.js';

const stateDir = await mkdtemp(path.join(os.tmpdir(), 'e2e-npm-start-'));
afterAll(() => rm(stateDir, { recursive: true, force: true }));

function processesUsing(marker: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

describe('npm start', () => {
  it('prints a key and a curl line that generate an image, and stops every part on Ctrl-C', async () => {
    // Two backends take BACKEND_PORT and BACKEND_PORT + 1: the other parts must not land on either.
    const free = await randomStackPorts(2);
    const ports = { EDGE_PORT: free.edge, BACKEND_PORT: free.backend, S3_PORT: free.s3, INSPECTOR_PORT: free.inspector };
    const child = spawn('npm', ['start'], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        BACKENDS_COUNT: '2',
        LOCAL_STATE_DIR: stateDir,
      },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 360_000;
      while (!output.includes('Ctrl-C stops everything.')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not become ready:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const key = /API key\s+(\S+)/.exec(output)?.[1];
      const curl = /^\s+(curl -s .*)$/m.exec(output)?.[1];
      expect(key).toMatch(/^sdk_/);
      expect(output).toContain(`playground  http://127.0.0.1:${ports.EDGE_PORT}/`);
      expect(output).toContain(`backend     http://127.0.0.1:${ports.BACKEND_PORT}   (local-backend-1,`);
      expect(output).toContain(`backend     http://127.0.0.1:${ports.BACKEND_PORT + 1}   (local-backend-2,`);
      // The curl line, run as curl would: URL, headers and body taken from the printed command.
      const url = /curl -s (\S+)/.exec(curl!)![1]!;
      const headers = Object.fromEntries([...curl!.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
      const body = /-d '(.*)'$/.exec(curl!)![1]!;
      expect(headers.authorization).toBe(`Bearer ${key}`);
      const res = await fetch(url, { method: 'POST', headers, body });
      expect(res.status).toBe(201);
      const prediction = (await res.json()) as { status: string; output: string[] };
      expect(prediction.status).toBe('succeeded');
      const image = await fetch(prediction.output[0]!);
      const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 64, height: 64 });
      const playground = await fetch(`http://127.0.0.1:${ports.EDGE_PORT}/`);
      expect(await playground.text()).toContain('<form id="form">');
    } finally {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
    expect(output).toContain('[stack] stopped');
    for (const [name, port] of Object.entries(ports).filter(([n]) => n !== 'INSPECTOR_PORT')) {
      expect(await isPortFree(port), `${name} ${port} still in use`).toBe(true);
    }
    expect(await isPortFree(ports.BACKEND_PORT + 1), "the second backend's port still in use").toBe(true);
    expect(processesUsing(stateDir)).toEqual([]);
  });
});
