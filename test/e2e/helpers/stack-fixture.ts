/**
 * One local stack per test file (the same `startStack` as `npm start`, on random free ports, state in a fresh
 * temporary folder, the demo model shared under `.local/models`). Part logs are kept in memory and printed
 * only when start-up fails, so a green run stays quiet.
 * @module
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { randomStackPorts, startStack, type Stack, type StackOptions } from '../../../scripts/stack/start-stack.js';

/** Start-up takes a wrangler start, two wrangler D1 runs and a model load. */
const STACK_START_TIMEOUT_MS = 360_000;

export interface StackHandle {
  /** The running stack (available inside tests, after `beforeAll`). */
  readonly stack: Stack;
  /** The parts' log lines so far. */
  readonly logs: string[];
}

/** Starts a stack for the current file in `beforeAll` and stops it in `afterAll`. */
export function useStack(options: Partial<Omit<StackOptions, 'ports' | 'stateDir' | 'log'>> = {}): StackHandle {
  let stack: Stack | undefined;
  let stateDir: string | undefined;
  const logs: string[] = [];
  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'e2e-stack-'));
    try {
      // Tests poll freely: the per-key request limit is raised unless a file sets its own. Leases live 30 s (as in
      // production) instead of the local 10 s: a CPU backend's event loop stalls during each onnxruntime call, and
      // on a busy 2-core machine one call of a 512² job outlasts 10 s, so its heartbeats would arrive too late.
      const edgeVars = { DEFAULT_REQUESTS_PER_MINUTE: '100000', LEASE_TTL_S: '30', ...options.edgeVars };
      // For the same reason the backend's fleet requests may take 60 s: a heartbeat answered during a stall is read
      // only when the call ends, and a 10 s limit would discard it (the timer fires first) however soon it came.
      const backendEnv = { FLEET_TIMEOUT_MS: '60000', ...options.backendEnv };
      stack = await startStack({
        ...options,
        edgeVars,
        backendEnv,
        ports: await randomStackPorts(options.backendsCount),
        stateDir,
        log: (source, line) => logs.push(`[${source}] ${line}`),
      });
    } catch (err) {
      process.stderr.write(`${logs.slice(-60).join('\n')}\n`);
      throw err;
    }
  }, STACK_START_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.stop();
    // E2E_LOG_DIR=<folder> keeps every part's log of each file for inspection.
    const logDir = process.env.E2E_LOG_DIR;
    if (logDir) await writeFile(path.join(logDir, `${path.basename(expect.getState().testPath ?? 'stack')}.log`), `${logs.join('\n')}\n`);
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }, 60_000);
  return {
    get stack(): Stack {
      if (!stack) throw new Error('the stack is not running');
      return stack;
    },
    logs,
  };
}
