/**
 * The local stack for the serving benchmark: `startStack` (as `npm start` and the end-to-end tests) on random
 * free ports with its state in a fresh temporary folder, stopped and removed when the work ends, fails, or the
 * process is interrupted. Part logs are kept in memory and printed only when something fails.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomStackPorts, startStack, type Stack } from '../../scripts/stack/start-stack.js';

/** Most part log lines kept for a failure report. */
const KEPT_LOG_LINES = 80;

export interface StackRunOptions {
  /** Extra backend variables (`gpu-backend/src/server/config.ts`). */
  backendEnv?: Record<string, string>;
  /** Extra edge vars (after the raised request limit). */
  edgeVars?: Record<string, string>;
  /** Progress lines. */
  log: (line: string) => void;
}

/**
 * Starts a stack, runs `work` with it, and always stops it and removes its state.
 * @param work gets the running stack and its state folder (for scratch files of the caller)
 * @throws whatever start-up or `work` threw, after the stack was stopped; the parts' last log lines go to stderr
 */
export async function withStack<T>(o: StackRunOptions, work: (stack: Stack, stateDir: string) => Promise<T>): Promise<T> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'bench-serving-'));
  const logs: string[] = [];
  const sink = (source: string, line: string): void => {
    logs.push(`[${source}] ${line}`);
    if (logs.length > KEPT_LOG_LINES) logs.shift();
    if (source === 'stack') o.log(`stack: ${line}`);
  };
  const starting = new AbortController();
  let stack: Stack | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    o.log(`${signal}: stopping the stack`);
    starting.abort();
    void (stack?.stop() ?? Promise.resolve()).then(() => rm(stateDir, { recursive: true, force: true })).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    stack = await startStack({
      ports: await randomStackPorts(),
      stateDir,
      // Every request of the benchmark counts against the per-key limit; it must never be the bottleneck.
      edgeVars: { DEFAULT_REQUESTS_PER_MINUTE: '100000', ...o.edgeVars },
      ...(o.backendEnv === undefined ? {} : { backendEnv: o.backendEnv }),
      log: sink,
      signal: starting.signal,
    });
    return await work(stack, stateDir);
  } catch (err) {
    process.stderr.write(`last lines of the stack's logs:\n${logs.join('\n')}\n`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (stack) {
      o.log('stopping the stack');
      await stack.stop();
    }
    await rm(stateDir, { recursive: true, force: true });
  }
}
