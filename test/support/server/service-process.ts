/**
 * Runs the service entry (`gpu-backend/src/main.ts`) as its own node process for tests, collecting its JSON
 * log lines. The process is node itself (not npx in front of it), so signals reach it as in a container.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signInternalRequest } from '../../../shared/signing.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServiceProcess {
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Base URL, known once the service logged `listening`. */
  baseUrl(): Promise<string>;
  waitLine(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** A signed request to the service. */
  request(method: string, pathname: string, body?: string): Promise<Response>;
}

export function startServiceProcess(env: Record<string, string>, secret: string): ServiceProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'gpu-backend/src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const waitLine: ServiceProcess['waitLine'] = async (pred, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`service exited early: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`log line not seen; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const baseUrl = async () => `http://127.0.0.1:${String((await waitLine((l) => l.msg === 'listening')).port)}`;
  return {
    proc,
    lines,
    exited,
    baseUrl,
    waitLine,
    async request(method, pathname, body = '') {
      const headers = { 'content-type': 'application/json', ...(await signInternalRequest(secret, method, pathname, body)) };
      return fetch(`${await baseUrl()}${pathname}`, { method, headers, ...(body === '' ? {} : { body }) });
    },
  };
}
