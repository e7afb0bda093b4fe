/**
 * One local stack per test file (the same `startStack` as `npm start`, on random free ports, state in a fresh
 * temporary folder, the demo model shared under `.local/models`). Part logs are kept in memory and printed
 * only when start-up fails, so a green run stays quiet.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { randomStackPorts, startStack, type Stack, type StackOptions } from '../../../scripts/stack/start-stack.js';

/** Start-up takes a wrangler start, two wrangler D1 runs and a model load. */
export const STACK_START_TIMEOUT_MS = 180_000;

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
      stack = await startStack({ ...options, ports: await randomStackPorts(), stateDir, log: (source, line) => logs.push(`[${source}] ${line}`) });
    } catch (err) {
      process.stderr.write(`${logs.slice(-60).join('\n')}\n`);
      throw err;
    }
  }, STACK_START_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.stop();
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
