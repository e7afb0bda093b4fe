/**
 * Child processes of the local stack: spawned in their own process group (so a terminal's Ctrl-C reaches the
 * launcher only, and stopping a part takes its own children with it), output streamed line by line with a
 * prefix, stopped with SIGTERM and, after a grace period, SIGKILL.
 * @module
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Receives one line of a part's output. */
export type LogSink = (source: string, line: string) => void;

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnPartOptions {
  /** Log prefix, e.g. `backend`. */
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: LogSink;
}

/** A running part. */
export interface ManagedChild {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the child (the group leader) has exited. */
  readonly exited: Promise<ChildExit>;
  /** Whether the leader has exited. */
  hasExited(): boolean;
  /** Sends a signal to the whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader is gone. */
  stop(graceMs?: number): Promise<ChildExit>;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Spawns a part in its own process group with prefixed, line-buffered output. */
export function spawnPart(o: SpawnPartOptions): ManagedChild {
  const child = spawn(o.command, [...o.args], { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${o.name}: could not start ${o.command}`);
  const pid = child.pid;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => o.log(o.name, line));
  }
  let done: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('exit', (code, signal) => {
      done = { code, signal };
      resolve(done);
    });
  });
  return {
    name: o.name,
    pid,
    exited,
    hasExited: () => done !== undefined,
    signal: (signal) => signalGroup(pid, signal),
    async stop(graceMs = 10_000) {
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      // Anything the leader left behind in its group (workerd under wrangler) goes too.
      signalGroup(pid, 'SIGKILL');
      return exit;
    },
  };
}

/** Runs a command to completion (output prefixed); rejects with its last lines when it fails. */
export async function runToCompletion(o: SpawnPartOptions): Promise<void> {
  const tail: string[] = [];
  const part = spawnPart({
    ...o,
    log: (source, line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      o.log(source, line);
    },
  });
  const exit = await part.exited;
  if (exit.code !== 0) {
    throw new Error(`${o.name} failed (${exit.signal ?? `exit ${exit.code}`}):\n${tail.join('\n')}`);
  }
}
